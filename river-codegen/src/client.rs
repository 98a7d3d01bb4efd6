//! The `client` module of a generated file: a `Client` wrapping
//! `river_runtime::Client`, one `{Service}Client` per service and one method per
//! procedure, shaped by the procedure kind (as tonic does for gRPC's four shapes).

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{procedure_docs, Plan, ProcPlan, ServicePlan};
use crate::schema::ProcedureKind;

/// `pub mod client { … }`.
pub(crate) fn client_module(plan: &Plan) -> TokenStream {
    let accessors = plan.services.iter().map(|svc| {
        let name = &svc.snake;
        let ty = &svc.client_struct;
        let doc = format!(" The procedures of the `{}` service.", svc.wire);
        quote! {
            #[doc = #doc]
            pub fn #name(&self) -> #ty {
                #ty::new(self.inner.clone())
            }
        }
    });
    let service_clients = plan.services.iter().map(service_client);
    let (handshake_doc, handshake_alias) = match &plan.handshake {
        Some(ty) => (
            quote! {
                #[doc = ""]
                #[doc = " The server expects handshake metadata of type [`HandshakeMetadata`]:"]
                #[doc = " pass it with `ClientBuilder::handshake_metadata`."]
            },
            quote! {
                /// The handshake metadata this schema's server expects (set it with
                /// `river_runtime::ClientBuilder::handshake_metadata`).
                pub type HandshakeMetadata = #ty;
            },
        ),
        None => (TokenStream::new(), TokenStream::new()),
    };
    let use_types = plan.use_types();
    quote! {
        /// Typed client: `Client` and one client per service.
        pub mod client {
            #use_types

            #handshake_alias

            /// A typed client for every service of the schema, wrapping a
            /// `river_runtime::Client` (build that with `river_runtime::Client::builder`).
            /// Cheap to clone; clones share the session.
            #handshake_doc
            #[derive(Clone)]
            pub struct Client {
                inner: ::river_runtime::Client,
            }

            impl Client {
                /// Wraps a runtime client.
                pub fn new(inner: ::river_runtime::Client) -> Self {
                    Client { inner }
                }

                /// The runtime client, for untyped calls, `connect` and `close`.
                pub fn inner(&self) -> &::river_runtime::Client {
                    &self.inner
                }

                /// Unwraps the runtime client.
                pub fn into_inner(self) -> ::river_runtime::Client {
                    self.inner
                }

                #(#accessors)*
            }

            impl ::std::fmt::Debug for Client {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct("Client").finish_non_exhaustive()
                }
            }

            impl ::std::convert::From<::river_runtime::Client> for Client {
                fn from(inner: ::river_runtime::Client) -> Self {
                    Client::new(inner)
                }
            }

            #(#service_clients)*
        }
    }
}

/// `{Service}Client` and its methods.
fn service_client(svc: &ServicePlan) -> TokenStream {
    let ty = &svc.client_struct;
    let name = ty.to_string();
    let doc = format!(
        " A typed client for the `{}` service. Cheap to clone; clones share the session.",
        svc.wire
    );
    let methods = svc.procedures.iter().map(|p| method(svc, p));
    quote! {
        #[doc = #doc]
        #[derive(Clone)]
        pub struct #ty {
            inner: ::river_runtime::Client,
        }

        impl #ty {
            /// Wraps a runtime client.
            pub fn new(inner: ::river_runtime::Client) -> Self {
                #ty { inner }
            }

            /// The runtime client.
            pub fn inner(&self) -> &::river_runtime::Client {
                &self.inner
            }

            #(#methods)*
        }

        impl ::std::fmt::Debug for #ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#name).finish_non_exhaustive()
            }
        }
    }
}

/// One client method.
fn method(svc: &ServicePlan, p: &ProcPlan) -> TokenStream {
    let docs = procedure_docs(svc, p, "Calls");
    let name = &p.method;
    let (service, procedure) = (&svc.wire, &p.wire);
    let (init, input, output, error) = (&p.init, &p.input, &p.output, &p.error);
    match p.kind {
        ProcedureKind::Rpc => quote! {
            #docs
            ///
            /// The returned future does not borrow the client or `init` (the request is
            /// encoded when this is called), so it can be spawned.
            pub fn #name(
                &self,
                init: &#init,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<#output, ::river_runtime::RiverError<#error>>,
            > + ::std::marker::Send + 'static {
                self.inner.rpc(#service, #procedure, init)
            }
        },
        ProcedureKind::Upload => quote! {
            #docs
            ///
            /// Send requests with the `Writer`, close it, then await the `Response`.
            pub fn #name(
                &self,
                init: &#init,
            ) -> (::river_runtime::Writer<#input>, ::river_runtime::Response<#output, #error>) {
                self.inner.upload(#service, #procedure, init)
            }
        },
        ProcedureKind::Stream => quote! {
            #docs
            ///
            /// Send requests with the `Writer`; read results from the `Reader` (a `Stream`).
            pub fn #name(
                &self,
                init: &#init,
            ) -> (::river_runtime::Writer<#input>, ::river_runtime::Reader<#output, #error>) {
                self.inner.stream(#service, #procedure, init)
            }
        },
        ProcedureKind::Subscription => quote! {
            #docs
            ///
            /// Read results from the returned `Reader` (a `Stream`); drop it to cancel.
            pub fn #name(&self, init: &#init) -> ::river_runtime::Reader<#output, #error> {
                self.inner.subscribe(#service, #procedure, init)
            }
        },
    }
}

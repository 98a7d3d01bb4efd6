//! The `client` module of a generated file: a `Client` wrapping
//! `river_runtime::Client`, one `{Service}Client` per service and one method per
//! procedure, shaped by the procedure kind (as tonic does for gRPC's four shapes).

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{procedure_docs, Plan, ProcPlan, ServicePlan};
use crate::schema::ProcedureKind;

/// `pub mod client { … }`.
pub(crate) fn client_module(plan: &Plan, binary_fields: &[String]) -> TokenStream {
    let (codec_doc, check, try_new_body) = codec_parts(binary_fields);
    let accessors = plan.services.iter().map(|svc| {
        let name = &svc.snake;
        let ty = &svc.client_struct;
        let doc = format!(" The procedures of the `{}` service.", svc.wire);
        let gate = &svc.gate;
        quote! {
            #[doc = #doc]
            #gate
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
            #codec_doc
            #[derive(Clone)]
            pub struct Client {
                inner: ::river_runtime::Client,
            }

            impl Client {
                /// Wraps a runtime client. When its codec cannot carry this schema's
                /// `BINARY_CODEC_FIELDS`, the runtime client fails `connect` and every
                /// call at once with an error naming them; [`Client::try_new`] returns
                /// that error instead.
                pub fn new(inner: ::river_runtime::Client) -> Self {
                    #check
                    Client { inner }
                }

                /// Wraps a runtime client, or fails (`Error::is_config`) when its codec
                /// cannot carry this schema's `BINARY_CODEC_FIELDS` (the JSON codec and a
                /// schema with `Date` fields), naming the fields and the fix.
                pub fn try_new(
                    inner: ::river_runtime::Client,
                ) -> ::std::result::Result<Self, ::river_runtime::Error> {
                    #try_new_body
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

/// The `## Codec` section of the client's docs, the check in `Client::new` and the body
/// of `Client::try_new`: nothing to say or check when the JSON codec carries the whole
/// schema.
fn codec_parts(binary_fields: &[String]) -> (TokenStream, TokenStream, TokenStream) {
    if binary_fields.is_empty() {
        return (
            TokenStream::new(),
            TokenStream::new(),
            quote!(::std::result::Result::Ok(Client::new(inner))),
        );
    }
    let mut lines = vec![
        String::new(),
        " ## Codec".to_string(),
        String::new(),
        " This schema needs `river_runtime::Codec::Msgpack` on both sides (set it with".to_string(),
        " `ClientBuilder::codec` and `ServerBuilder::codec`): the JSON codec cannot carry"
            .to_string(),
        " these `Date` fields (the reference's JSON codec sends a `Date` as `{}`):".to_string(),
        String::new(),
    ];
    lines.extend(
        binary_fields
            .iter()
            .map(|f| format!(" - {}", inline_code(f))),
    );
    lines.extend([
        String::new(),
        " With `Codec::Json`, [`Client::try_new`] fails and a client made by [`Client::new`]"
            .to_string(),
        " fails `connect` and every call at once, naming these fields (`BINARY_CODEC_FIELDS`)."
            .to_string(),
    ]);
    let doc = quote!(#(#[doc = #lines])*);
    let check = quote! {
        // The error is kept by the runtime client: `connect` and calls report it.
        let _ = inner.require_binary_codec(super::BINARY_CODEC_FIELDS);
    };
    let try_new = quote! {
        inner.require_binary_codec(super::BINARY_CODEC_FIELDS)?;
        ::std::result::Result::Ok(Client { inner })
    };
    (doc, check, try_new)
}

/// `text` as markdown inline code (with a longer fence when it holds a backtick).
fn inline_code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
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
    let gate = &svc.gate;
    quote! {
        #[doc = #doc]
        #gate
        #[derive(Clone)]
        pub struct #ty {
            inner: ::river_runtime::Client,
        }

        #gate
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

        #gate
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

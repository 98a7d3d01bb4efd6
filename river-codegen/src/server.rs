//! The `server` module of a generated file: one `{Service}Service` trait per service,
//! whose methods implementors write as `async fn`, and a `register_{service}` function
//! that adds the service's procedures to a `river_runtime::Router`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{procedure_docs, Plan, ProcPlan, ServicePlan};
use crate::schema::ProcedureKind;

/// `pub mod server { … }`.
pub(crate) fn server_module(plan: &Plan) -> TokenStream {
    let use_types = plan.use_types();
    let handshake_alias = match &plan.handshake {
        Some(ty) => quote! {
            /// The handshake metadata clients send; decode it with a
            /// `river_runtime::HandshakeValidator` (`HandshakeValidator::new::<HandshakeMetadata, _, _>(…)`).
            pub type HandshakeMetadata = #ty;
        },
        None => TokenStream::new(),
    };
    let services = plan.services.iter().map(service);
    quote! {
        /// Server side: one trait per service and a function registering an
        /// implementation with a `river_runtime::Router`.
        pub mod server {
            #use_types

            #handshake_alias

            #(#services)*
        }
    }
}

/// The trait and the registration function of one service.
fn service(svc: &ServicePlan) -> TokenStream {
    let trait_name = &svc.trait_name;
    let register = &svc.register_fn;
    let trait_doc = format!(
        " The procedures of the `{}` service. Implement it (methods can be written as \
         `async fn`) and register it with [`{register}`].",
        svc.wire
    );
    let register_doc = format!(
        " Registers every procedure of the `{}` service with `router`, each call \
         handled by `service`. Requests are validated against the schema first \
         (`router.schema(SCHEMA_JSON, …)`), as the reference server validates them.",
        svc.wire
    );
    let methods = svc.procedures.iter().map(|p| trait_method(svc, p));
    let registrations = svc.procedures.iter().map(|p| registration(svc, p));
    let wire = &svc.wire;
    let body = if svc.procedures.is_empty() {
        quote! {
            router.schema(super::SCHEMA_JSON, #wire);
            let _ = service;
        }
    } else {
        quote! {
            router.schema(super::SCHEMA_JSON, #wire);
            #(#registrations)*
        }
    };
    let gate = &svc.gate;
    quote! {
        #[doc = #trait_doc]
        #gate
        pub trait #trait_name: ::std::marker::Send + ::std::marker::Sync + 'static {
            #(#methods)*
        }

        #[doc = #register_doc]
        #gate
        pub fn #register<S: #trait_name>(
            router: &mut ::river_runtime::Router,
            service: ::std::sync::Arc<S>,
        ) {
            #body
        }
    }
}

/// One trait method.
fn trait_method(svc: &ServicePlan, p: &ProcPlan) -> TokenStream {
    let docs = procedure_docs(svc, p, "Handles");
    let name = &p.method;
    let (init, input, output, error) = (&p.init, &p.input, &p.output, &p.error);
    match p.kind {
        ProcedureKind::Rpc => quote! {
            #docs
            fn #name(
                &self,
                ctx: ::river_runtime::Context,
                init: #init,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<#output, ::river_runtime::Failure<#error>>,
            > + ::std::marker::Send;
        },
        ProcedureKind::Upload => quote! {
            #docs
            ///
            /// `requests` yields the client's requests until it closes its half.
            fn #name(
                &self,
                ctx: ::river_runtime::Context,
                init: #init,
                requests: ::river_runtime::Requests<#input>,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<#output, ::river_runtime::Failure<#error>>,
            > + ::std::marker::Send;
        },
        ProcedureKind::Stream => quote! {
            #docs
            ///
            /// `requests` yields the client's requests; send results with `responses`.
            /// Returning closes the response half.
            fn #name(
                &self,
                ctx: ::river_runtime::Context,
                init: #init,
                requests: ::river_runtime::Requests<#input>,
                responses: ::river_runtime::Responses<#output, #error>,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<(), ::river_runtime::Failure<#error>>,
            > + ::std::marker::Send;
        },
        ProcedureKind::Subscription => quote! {
            #docs
            ///
            /// Send results with `responses`; returning closes the response half.
            fn #name(
                &self,
                ctx: ::river_runtime::Context,
                init: #init,
                responses: ::river_runtime::Responses<#output, #error>,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<(), ::river_runtime::Failure<#error>>,
            > + ::std::marker::Send;
        },
    }
}

/// The `router.<kind>(…)` call registering one procedure.
fn registration(svc: &ServicePlan, p: &ProcPlan) -> TokenStream {
    let name = &p.method;
    let (service, procedure) = (&svc.wire, &p.wire);
    let (init, input, output, error) = (&p.init, &p.input, &p.output, &p.error);
    match p.kind {
        ProcedureKind::Rpc => quote! {
            {
                let service = ::std::sync::Arc::clone(&service);
                router.rpc::<#init, #output, #error, _, _>(#service, #procedure, move |ctx, init| {
                    let service = ::std::sync::Arc::clone(&service);
                    async move { service.#name(ctx, init).await }
                });
            }
        },
        ProcedureKind::Upload => quote! {
            {
                let service = ::std::sync::Arc::clone(&service);
                router.upload::<#init, #input, #output, #error, _, _>(
                    #service,
                    #procedure,
                    move |ctx, init, requests| {
                        let service = ::std::sync::Arc::clone(&service);
                        async move { service.#name(ctx, init, requests).await }
                    },
                );
            }
        },
        ProcedureKind::Stream => quote! {
            {
                let service = ::std::sync::Arc::clone(&service);
                router.stream::<#init, #input, #output, #error, _, _>(
                    #service,
                    #procedure,
                    move |ctx, init, requests, responses| {
                        let service = ::std::sync::Arc::clone(&service);
                        async move { service.#name(ctx, init, requests, responses).await }
                    },
                );
            }
        },
        ProcedureKind::Subscription => quote! {
            {
                let service = ::std::sync::Arc::clone(&service);
                router.subscription::<#init, #output, #error, _, _>(
                    #service,
                    #procedure,
                    move |ctx, init, responses| {
                        let service = ::std::sync::Arc::clone(&service);
                        async move { service.#name(ctx, init, responses).await }
                    },
                );
            }
        },
    }
}

//! Service error types: the members of a procedure's `errors` union, their codes, and
//! the `::river_runtime::service_error!` invocation (or `UndeclaredError` alias) that
//! becomes `{Service}{Procedure}Error`.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use crate::crate_paths::inside;
use crate::diagnostic::{join, Diagnostic};

/// One declared error code: a struct variant of the error enum.
pub(crate) struct ErrorVariant {
    pub(crate) code: String,
    pub(crate) ident: Ident,
    pub(crate) doc: Option<String>,
    /// The extras payload (a `Job` index) and whether extras are required.
    pub(crate) extras: Option<(usize, bool)>,
}

/// A procedure's error enum.
pub(crate) struct ErrorEnum {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) variants: Vec<ErrorVariant>,
}

/// The members of an `errors` union, nested unions flattened; `{"not":{}}` has none.
pub(crate) fn collect_error_members(
    errors: &Value,
    path: &str,
    out: &mut Vec<(String, Value)>,
) -> Result<(), Diagnostic> {
    let Some(obj) = errors.as_object() else {
        return match errors {
            Value::Bool(false) => Ok(()),
            _ => Err(Diagnostic::new(
                path,
                "`errors` must be a JSON schema object",
            )),
        };
    };
    if let Some(members) = obj.get("anyOf").or_else(|| obj.get("oneOf")) {
        let key = if obj.contains_key("anyOf") {
            "anyOf"
        } else {
            "oneOf"
        };
        let members = members
            .as_array()
            .ok_or_else(|| Diagnostic::new(join(path, key), "must be an array"))?;
        for (i, m) in members.iter().enumerate() {
            collect_error_members(m, &join(&join(path, key), &i.to_string()), out)?;
        }
        return Ok(());
    }
    if obj.contains_key("not") || obj.is_empty() {
        return Ok(());
    }
    out.push((path.to_string(), errors.clone()));
    Ok(())
}

/// The codes of an error variant's `code` schema: a `const`, an `enum` of strings, or a
/// union of those.
pub(crate) fn literal_codes(schema: &Value) -> Option<Vec<String>> {
    if let Some(Value::String(c)) = schema.get("const") {
        return Some(vec![c.clone()]);
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect();
    }
    if let Some(Value::Array(members)) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        let mut out = Vec::new();
        for m in members {
            out.extend(literal_codes(m)?);
        }
        return Some(out);
    }
    None
}

pub(crate) fn doc_attrs(doc: &str) -> TokenStream {
    let lines = doc.lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#lines)*)
}

/// A procedure's error type: a `::river_runtime::service_error!` enum when the schema
/// declares codes, else an alias of the shared `::river_runtime::UndeclaredError`.
pub(crate) fn error_enum_tokens(e: &ErrorEnum, idents: &[TokenStream]) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let doc = doc_attrs(&e.doc);
    if e.variants.is_empty() {
        return quote! {
            #doc
            pub type #name = ::river_runtime::UndeclaredError;
        };
    }
    let variants = e.variants.iter().map(|v| {
        let ident = &v.ident;
        let code = &v.code;
        let vdoc = doc_attrs(&match &v.doc {
            Some(d) => format!("`{code}`: {d}"),
            None => format!("`{code}`"),
        });
        let extras = match v.extras {
            None => TokenStream::new(),
            Some((job, required)) => {
                let ty = idents.get(job).map(inside).unwrap_or_default();
                if required {
                    quote!({ extras: #ty })
                } else {
                    quote!({ extras?: #ty })
                }
            }
        };
        quote!(#vdoc #ident = #code #extras)
    });
    quote! {
        ::river_runtime::service_error! {
            #doc
            pub enum #name {
                #(#variants,)*
            }
        }
    }
}

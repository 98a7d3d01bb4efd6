//! The build-script API, in the style of `tonic-build`/`prost-build`:
//! [`configure()`] → [`Builder`] → [`Builder::compile`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::generate::{generate, Options};

/// Why [`Builder::compile`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The schema is not valid (or uses something the generator cannot express).
    Schema {
        /// The schema file.
        path: PathBuf,
        /// Where in the schema, and what is wrong.
        diagnostic: Diagnostic,
    },
    /// No output directory: neither [`Builder::out_dir`] nor `OUT_DIR` is set.
    NoOutDir,
    /// Both the client and the server were switched off.
    NothingToGenerate,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Schema { path, diagnostic } => write!(f, "{}: {diagnostic}", path.display()),
            Error::NoOutDir => f.write_str(
                "no output directory: OUT_DIR is not set (call `out_dir(..)` outside build scripts)",
            ),
            Error::NothingToGenerate => {
                f.write_str("both client and server generation are switched off")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Starts configuring code generation for a build script.
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     river_codegen::configure()
///         .server(false)
///         .emit_rerun_if_changed(true)
///         .compile("schemas/interop.json")?;
///     Ok(())
/// }
/// ```
///
/// and in the crate: `river_runtime::include_generated!("interop");`.
pub fn configure() -> Builder {
    Builder::default()
}

/// Generates code for `schema` into `OUT_DIR` with the default settings (client and
/// server, no `rerun-if-changed`). Same as `configure().compile(schema)`.
pub fn compile(schema: impl AsRef<Path>) -> Result<PathBuf, Error> {
    configure().compile(schema)
}

/// Settings for [`Builder::compile`]. Made by [`configure()`].
#[derive(Clone, Debug, Default)]
pub struct Builder {
    options: Options,
    out_dir: Option<PathBuf>,
    file_name: Option<String>,
    emit_rerun_if_changed: bool,
}

impl Builder {
    /// Whether to generate the typed client (`pub mod client`). Default `true`.
    pub fn client(mut self, on: bool) -> Self {
        self.options.client = on;
        self
    }

    /// Whether to generate the server traits (`pub mod server`). Default `true`.
    pub fn server(mut self, on: bool) -> Self {
        self.options.server = on;
        self
    }

    /// Where to write the generated file. Default: the `OUT_DIR` cargo gives build scripts.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The generated file's name without `.rs`. Default: the schema file's stem, so
    /// `schemas/interop.json` becomes `interop.rs`, included with
    /// `river_runtime::include_generated!("interop")`.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Print `cargo:rerun-if-changed=<schema>` for every compiled schema. Default
    /// `false`: once a build script prints any `rerun-if-changed` line, cargo stops
    /// rerunning it for other changes in the package, so this is opt-in (the lesson of
    /// prost and tonic).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.emit_rerun_if_changed = on;
        self
    }

    /// Generates code for the schema file at `schema` and writes it to
    /// `<out_dir>/<file name>.rs`, leaving the file untouched when its content is
    /// unchanged. Returns the path of the generated file.
    pub fn compile(&self, schema: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let schema = schema.as_ref();
        if self.emit_rerun_if_changed {
            println!("cargo:rerun-if-changed={}", schema.display());
        }
        if !self.options.client && !self.options.server {
            return Err(Error::NothingToGenerate);
        }
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let name = match &self.file_name {
            Some(name) => name.clone(),
            None => file_stem(schema),
        };
        let text = generate_from_file(schema, &self.options)?;
        let target = out_dir.join(format!("{name}.rs"));
        write_if_changed(&target, &text)?;
        Ok(target)
    }
}

/// The stem of a schema path (`schemas/interop.json` → `interop`), `schema` if it has none.
pub fn file_stem(schema: &Path) -> String {
    schema
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "schema".to_string())
}

/// Reads the schema file at `schema` and generates code for it.
pub fn generate_from_file(schema: &Path, options: &Options) -> Result<String, Error> {
    let json = std::fs::read_to_string(schema).map_err(|source| Error::Io {
        path: schema.to_path_buf(),
        source,
    })?;
    generate(&json, options).map_err(|diagnostic| Error::Schema {
        path: schema.to_path_buf(),
        diagnostic,
    })
}

/// Writes `text` to `path` unless the file already holds exactly that, creating the
/// parent directories. Returns whether the file was written.
pub fn write_if_changed(path: &Path, text: &str) -> Result<bool, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(existing) = std::fs::read(path) {
        if existing == text.as_bytes() {
            return Ok(false);
        }
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)?;
    Ok(true)
}

//! The `river-codegen` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use river_codegen::builder::{file_stem, generate_from_file, write_if_changed};
use river_codegen::Options;

/// Generates typed Rust clients and server traits from River service schemas.
#[derive(Parser, Debug)]
#[command(name = "river-codegen", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which halves of the API to generate.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Target {
    /// The typed client only.
    Client,
    /// The server traits only.
    Server,
    /// Both.
    Both,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generates Rust code from a schema JSON file (as written by River's `serializeSchema`).
    #[command(after_help = "\
Examples:
  river-codegen generate schemas/interop.json --out src/interop.rs
  river-codegen generate schemas/interop.json --out src/generated/ --client-only
  river-codegen generate schemas/interop.json --out src/interop.rs --check

With --out DIR/ (an existing directory, or a path ending in '/'), the file is
DIR/<schema file stem>.rs. Without --out, the code goes to standard output.
The file is one self-contained module (`pub mod types`, `pub mod client`,
`pub mod server`); include it with `mod interop;` or `include!`.

Exit status: 0 on success; 1 on an invalid schema, an I/O error, or (with
--check) a file that differs from what would be generated; 2 on bad usage.")]
    Generate {
        /// The schema JSON file.
        schema: PathBuf,
        /// Output file (`x.rs`) or directory (`dir/`); standard output when absent.
        #[arg(short, long, value_name = "FILE.rs|DIR/")]
        out: Option<PathBuf>,
        /// Which halves to generate.
        #[arg(long, value_enum, default_value_t = Target::Both, conflicts_with_all = ["client_only", "server_only"])]
        target: Target,
        /// Generate the client only (same as `--target client`).
        #[arg(long, conflicts_with = "server_only")]
        client_only: bool,
        /// Generate the server only (same as `--target server`).
        #[arg(long)]
        server_only: bool,
        /// Do not write: exit 1 if the output file differs from what would be generated
        /// (a CI drift check).
        #[arg(long, requires = "out")]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate {
            schema,
            out,
            target,
            client_only,
            server_only,
            check,
        } => {
            let target = match (client_only, server_only) {
                (true, _) => Target::Client,
                (_, true) => Target::Server,
                _ => target,
            };
            let options = match target {
                Target::Client => Options::client_only(),
                Target::Server => Options::server_only(),
                Target::Both => Options::both(),
            };
            match run_generate(&schema, out.as_deref(), &options, check) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Where `--out` points: `DIR/<stem>.rs` for a directory, else the path itself.
fn output_path(out: &Path, schema: &Path) -> PathBuf {
    let text = out.as_os_str().to_string_lossy();
    if out.is_dir() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
        out.join(format!("{}.rs", file_stem(schema)))
    } else {
        out.to_path_buf()
    }
}

fn run_generate(
    schema: &Path,
    out: Option<&Path>,
    options: &Options,
    check: bool,
) -> Result<(), String> {
    let text = generate_from_file(schema, options).map_err(|e| e.to_string())?;
    let Some(out) = out else {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("writing to standard output: {e}"));
    };
    let path = output_path(out, schema);
    if check {
        let on_disk = std::fs::read(&path).ok();
        if on_disk.as_deref() == Some(text.as_bytes()) {
            return Ok(());
        }
        let why = if on_disk.is_some() {
            "differs from"
        } else {
            "is missing; expected"
        };
        return Err(format!(
            "{} {why} the code generated from {}; regenerate it with `river-codegen generate {} --out {}`",
            path.display(),
            schema.display(),
            schema.display(),
            path.display()
        ));
    }
    write_if_changed(&path, &text).map_err(|e| e.to_string())?;
    Ok(())
}

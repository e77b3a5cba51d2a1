//! The `phiguard` command line: `run`, `check`, `demo`. The only place `anyhow` is used.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use phiguard::config;
use phiguard::demo::{self, DemoPorts};
use phiguard::policy::{Policy, Shared};

/// jemalloc rather than glibc malloc: pingora allocates and frees many small buffers per
/// request; measured in docs/BENCHMARKS.md (load benchmark, allocator comparison).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A PHI-redacting reverse proxy for healthcare storefronts and patient portals.
#[derive(Parser)]
#[command(name = "phiguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy with a config file.
    Run {
        /// Path of the YAML config.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Validate a config file: exit 0 when it is good, 1 with every problem listed when not.
    Check {
        /// Path of the YAML config.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Redact PHI from log lines: stdin to stdout, one line out per line in.
    Redact {
        /// Take the profile from this config's `redaction_profiles` (default: every
        /// built-in detector, action mask).
        #[arg(long, short, requires = "profile")]
        config: Option<PathBuf>,
        /// The profile's name in the config.
        #[arg(long, short, requires = "config")]
        profile: Option<String>,
    },
    /// Run a demo origin, a tracker sink and the proxy in front of both on 127.0.0.1.
    Demo {
        /// First of four consecutive ports: proxy, admin, origin, sink.
        #[arg(long, default_value_t = 8080)]
        port_base: u16,
    },
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config } => run(config),
        Command::Check { config } => check(config),
        Command::Demo { port_base } => run_demo(port_base),
        Command::Redact { config, profile } => redact(config, profile),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("phiguard: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    // Application logs go to stderr; stdout carries only the access log.
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,pingora=warn"),
    )
    .target(env_logger::Target::Stderr)
    .init();
}

fn run(path: PathBuf) -> anyhow::Result<ExitCode> {
    let loaded = config::load(&path)?;
    phiguard::app::run(loaded, phiguard::app::ConfigSource::File)?;
    Ok(ExitCode::SUCCESS)
}

fn check(path: PathBuf) -> anyhow::Result<ExitCode> {
    let compiled = config::load(&path).and_then(|loaded| Policy::compile(&loaded, &Shared::new()));
    match compiled {
        Ok(policy) => {
            println!(
                "{}: ok ({} listeners, {} routes)",
                path.display(),
                policy.listeners.len(),
                policy.routes.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("{err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn redact(config: Option<PathBuf>, profile: Option<String>) -> anyhow::Result<ExitCode> {
    let profile = match (config, profile) {
        (Some(path), Some(name)) => {
            let policy = Policy::compile(&config::load(&path)?, &Shared::new())?;
            let known: Vec<&str> = policy
                .redaction_profiles
                .keys()
                .map(String::as_str)
                .collect();
            let found = policy
                .redaction_profiles
                .get(&name)
                .cloned()
                .with_context(|| {
                    format!(
                        "{}: redaction_profiles has no profile {name:?} (known: {})",
                        path.display(),
                        known.join(", ")
                    )
                })?;
            (*found).clone()
        }
        _ => phiguard_engine::Profile::builtin_default(),
    };
    let stats =
        phiguard_engine::filter::run(std::io::stdin().lock(), std::io::stdout().lock(), &profile)?;
    eprintln!(
        "phiguard redact: {} lines, {} redacted, {} blocked",
        stats.lines, stats.redacted, stats.blocked
    );
    Ok(ExitCode::SUCCESS)
}

fn run_demo(port_base: u16) -> anyhow::Result<ExitCode> {
    let ports =
        DemoPorts::from_base(port_base).context("--port-base leaves no room for four ports")?;
    let loaded = demo::config(ports)?;
    demo::start_backends(ports)?;
    print!("{}", demo::banner(ports));
    use std::io::Write;
    std::io::stdout().flush()?;
    phiguard::app::run(loaded, phiguard::app::ConfigSource::Embedded)?;
    Ok(ExitCode::SUCCESS)
}

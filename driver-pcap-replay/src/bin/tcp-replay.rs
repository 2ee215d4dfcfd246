//! `tcp-replay`: list the TCP connections of a capture, or replay one side of
//! one into the engine and compare what it sends with what the capture recorded.
//!
//! Exit status: 0 when the command ran (whatever the comparison found), 2 for
//! bad arguments or a file that cannot be read as a whole capture.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use driver_pcap_replay::render::{flows_table, report_text};
use driver_pcap_replay::{
    extract_flows, read_capture_file, replay, Capture, CaptureEnd, ReplayOptions, Role,
};

/// Real captures in, conformance differences out.
#[derive(Debug, Parser)]
#[command(name = "tcp-replay", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the TCP connections of a capture: endpoints, packets and payload
    /// bytes per direction, handshake seen, how each ended.
    Flows {
        /// A pcap or pcapng file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Read what can be read of a file cut off in the middle of a record
        /// (by default that is an error).
        #[arg(long)]
        lenient: bool,
    },
    /// Replay one side of a connection: the engine plays the recorded server
    /// (or client), the other side's segments are fed to it at their capture
    /// times, and its segments are compared step by step with the recorded ones.
    Replay {
        /// A pcap or pcapng file.
        file: PathBuf,
        /// The connection, by its index in `tcp-replay flows`.
        #[arg(long, default_value_t = 0)]
        flow: usize,
        /// The side the engine plays.
        #[arg(long = "as", value_enum, default_value_t = RoleArg::Server)]
        role: RoleArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The most segments compared per side.
        #[arg(long, default_value_t = 2000)]
        max_steps: usize,
        /// Milliseconds of virtual time to run after the last captured segment.
        #[arg(long, default_value_t = 500)]
        tail_ms: u64,
        /// Turn Nagle's algorithm on in the engine (off by default: data is
        /// handed over when the recorded stack sent it).
        #[arg(long)]
        nagle: bool,
        /// Read what can be read of a file cut off in the middle of a record
        /// (by default that is an error).
        #[arg(long)]
        lenient: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable text.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RoleArg {
    /// The engine listens and answers the recorded client.
    Server,
    /// The engine connects and talks to the recorded server.
    Client,
}

/// A failure that ends the command with status 2.
struct Failure(String);

fn load(path: &Path, lenient: bool) -> Result<Capture, Failure> {
    let capture =
        read_capture_file(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    let problem = match &capture.end {
        CaptureEnd::Complete => None,
        CaptureEnd::Truncated { offset } => Some(format!(
            "file is truncated: the record at byte {offset} is incomplete"
        )),
        CaptureEnd::Corrupt { offset, reason } => {
            Some(format!("file is corrupt at byte {offset}: {reason}"))
        }
    };
    match problem {
        Some(p) if !lenient => Err(Failure(format!(
            "{}: {p} (--lenient reads the records before it)",
            path.display()
        ))),
        Some(p) => {
            eprintln!("tcp-replay: warning: {}: {p}", path.display());
            Ok(capture)
        }
        None => Ok(capture),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Failure(format!("cannot encode JSON: {e}")))
}

fn run(cli: Cli) -> Result<String, Failure> {
    match cli.command {
        Command::Flows {
            file,
            format,
            lenient,
        } => {
            let capture = load(&file, lenient)?;
            let flows = extract_flows(&capture);
            match format {
                Format::Text => Ok(flows_table(&flows)),
                Format::Json => json(&flows),
            }
        }
        Command::Replay {
            file,
            flow,
            role,
            format,
            max_steps,
            tail_ms,
            nagle,
            lenient,
        } => {
            let capture = load(&file, lenient)?;
            let flows = extract_flows(&capture);
            let Some(chosen) = flows.flows.get(flow) else {
                return Err(Failure(format!(
                    "{}: no flow {flow} (the capture has {} flow(s); see `tcp-replay flows`)",
                    file.display(),
                    flows.flows.len()
                )));
            };
            let options = ReplayOptions {
                role: match role {
                    RoleArg::Server => Role::Server,
                    RoleArg::Client => Role::Client,
                },
                max_steps,
                tail: Duration::from_millis(tail_ms),
                nagle,
            };
            let report = replay(&capture, chosen, &options);
            match format {
                Format::Text => Ok(report_text(&report)),
                Format::Json => json(&report),
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(text) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            ExitCode::SUCCESS
        }
        Err(Failure(msg)) => {
            eprintln!("tcp-replay: error: {msg}");
            ExitCode::from(2)
        }
    }
}

//! `tcp-tun`: the TCP engine on a Linux TUN device, talking to the kernel's TCP
//!
//! ```text
//! tcp-tun serve --mode echo|discard|http --port P [--dev NAME] [--net SUBNET,...] [-v]
//!               [--pcap FILE] [--loss %] [--reorder %] [--dup %] [--delay MS]
//! tcp-tun connect HOST:PORT [same options]
//! ```
//!
//! Exit status: 0 after a clean stop (Ctrl-C or SIGTERM for `serve`, the peer closing for
//! `connect`), 1 when the device cannot be set up (the message says why: no permission, no
//! `/dev/net/tun`, a taken name...) or the connection fails, 2 for a bad command line.

mod cli;
mod connect;
mod http;
mod serve;

use std::io;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::Parser;
use driver_tun::{ConnEvent, Stack};
use tcp_engine::conn::Event;

use cli::{Cli, Command, Common};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let common = match &cli.command {
        Command::Serve { common, .. } | Command::Connect { common, .. } => common,
    };
    match run(&cli.command, common) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcp-tun: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: &Command, common: &Common) -> Result<(), String> {
    let config = common.stack_config()?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    let stack = Stack::new(config).map_err(|e| match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::NotFound => e.to_string(),
        _ => format!("cannot set up the TUN device: {e}"),
    })?;
    stack.set_interrupt(Some(Arc::clone(&stop)));
    if common.verbose {
        stack.set_event_hook(Some(Box::new(log_event)));
    }
    let result = match command {
        Command::Serve { mode, port, .. } => {
            serve::run(&stack, *mode, *port, &stop, common.verbose)
        }
        Command::Connect { addr, .. } => connect::run(&stack, *addr, &stop),
    };
    let device = stack.device();
    if common.verbose {
        let s = stack.stats();
        eprintln!("tcp-tun: {:?}", s.driver);
        eprintln!("tcp-tun: {:?}", s.engine);
        if let Some(p) = s.path {
            eprintln!("tcp-tun: impairment {p:?}");
        }
    }
    drop(stack);
    eprintln!("tcp-tun: stopped; device {device} removed");
    result.map_err(|e| e.to_string())
}

/// `-v`: one line per state change and per closed connection
fn log_event(e: &ConnEvent) {
    let who = match e.tuple {
        Some(t) => format!(
            "{} {}",
            std::net::SocketAddr::new(t.local_addr, t.local_port),
            std::net::SocketAddr::new(t.remote_addr, t.remote_port)
        ),
        None => "?".to_owned(),
    };
    match e.event {
        Event::StateChanged { from, to } => {
            eprintln!("tcp-tun: [{}] {who}: {from} -> {to}", e.handle.slot());
        }
        Event::Closed(reason) => {
            eprintln!("tcp-tun: [{}] {who}: closed ({reason:?})", e.handle.slot());
        }
        _ => {}
    }
}

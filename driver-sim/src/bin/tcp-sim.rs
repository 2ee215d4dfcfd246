//! `tcp-sim`: watch TCP work over a simulated lossy network (see `driver_sim::cli`).

use clap::Parser;

fn main() {
    let cli = driver_sim::cli::Cli::parse();
    std::process::exit(driver_sim::cli::execute(cli));
}

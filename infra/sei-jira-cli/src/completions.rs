//! `sei-jira completions SHELL`: the shell's completion script, from the command's definition.

use std::io::Write;

use clap_complete::Shell;

const BIN: &str = "sei-jira";

pub fn print(shell: Shell, command: &mut clap::Command) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, command, BIN, &mut script);
    let mut script = String::from_utf8(script)?;
    if shell == Shell::Bash {
        // clap_complete (clap-rs/clap#6421) names a hyphenated binary's subcommand states
        // `sei__subcmd__jira__…` where its dispatch loop arrives at `sei__jira__…`: no
        // subcommand past the first would ever complete. Spelled the way the loop spells them.
        script = script.replace("sei__subcmd__jira", "sei__jira");
    }
    std::io::stdout().write_all(script.as_bytes())?;
    Ok(())
}

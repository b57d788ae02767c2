//! The `jsms` binary; everything lives in the `jsms_cli` library so tests can reuse it.

fn main() -> std::process::ExitCode {
    jsms_cli::main_entry()
}

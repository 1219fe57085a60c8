//! The exit status of every command, decided here and nowhere else. As
//! ripgrep's:
//!
//! - 0: nothing wrong found.
//! - 1: the site has problems, or what a command checks does not hold (a
//!   rendered tree differs from `--out`, a peer file cannot be translated, a
//!   target fails to build).
//! - 2: gluonvpn could not do its job: an unreadable site, an unknown domain
//!   or target, an I/O error; the reason goes to standard error. Bad
//!   arguments exit 2 as well (clap's own status).
//! - 130: `build` stopped with Ctrl-C, as a shell reports SIGINT.
//!
//! A standard output closed by its reader (`gluonvpn check | head`) is not
//! an error: a command that knows its outcome exits with it
//! ([`Exit::after_output`]: `check` exits 1 when it found errors, even if
//! nobody read them); otherwise a broken pipe exits 0.

use std::process::ExitCode;

/// How a command ended; every command returns one (or an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Nothing wrong found.
    Clean,
    /// The site has problems, or a check failed.
    ProblemsFound,
    /// gluonvpn could not do its job.
    Failed,
    /// `build` was stopped with Ctrl-C.
    Interrupted,
}

impl Exit {
    /// [`Exit::ProblemsFound`] when `found`, else [`Exit::Clean`].
    pub fn problems_if(found: bool) -> Exit {
        if found {
            Exit::ProblemsFound
        } else {
            Exit::Clean
        }
    }

    /// How a command's result ends the run: its own exit, or for an error
    /// (printed to standard error) [`Exit::Failed`].
    pub fn of(result: anyhow::Result<Exit>) -> Exit {
        match result {
            Ok(exit) => exit,
            Err(e) if is_broken_pipe(&e) => Exit::Clean,
            Err(e) => {
                eprintln!("gluonvpn: error: {e:#}");
                Exit::Failed
            }
        }
    }

    /// The exit of a command that found `exit` and then wrote its output:
    /// `exit`, also when the reader closed the pipe early; another write
    /// error is an error.
    pub fn after_output(exit: Exit, written: std::io::Result<()>) -> anyhow::Result<Exit> {
        match written {
            Ok(()) => Ok(exit),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit),
            Err(e) => Err(e.into()),
        }
    }

    pub fn status(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::ProblemsFound => 1,
            Exit::Failed => 2,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.status())
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    // serde_json keeps the io::Error inside instead of as its source.
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                c.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            })
            == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn statuses_follow_the_policy() {
        let statuses = [
            Exit::Clean,
            Exit::ProblemsFound,
            Exit::Failed,
            Exit::Interrupted,
        ]
        .map(Exit::status);
        assert_eq!(statuses, [0, 1, 2, 130]);
        assert_eq!(Exit::problems_if(true), Exit::ProblemsFound);
        assert_eq!(Exit::problems_if(false), Exit::Clean);
    }

    #[test]
    fn an_error_fails_unless_it_is_a_broken_pipe() {
        assert_eq!(Exit::of(Ok(Exit::ProblemsFound)), Exit::ProblemsFound);
        assert_eq!(
            Exit::of(Err(anyhow::anyhow!("no such site directory"))),
            Exit::Failed
        );
        let broken_pipe = || Error::from(ErrorKind::BrokenPipe);
        assert_eq!(Exit::of(Err(broken_pipe().into())), Exit::Clean);
        let in_context = anyhow::Error::from(broken_pipe()).context("writing the report");
        assert_eq!(Exit::of(Err(in_context)), Exit::Clean);
        let from_serde_json = serde_json::Error::io(broken_pipe());
        assert_eq!(Exit::of(Err(from_serde_json.into())), Exit::Clean);
    }

    #[test]
    fn a_closed_pipe_keeps_what_was_found() {
        let closed = || Err(Error::from(ErrorKind::BrokenPipe));
        assert_eq!(
            Exit::after_output(Exit::ProblemsFound, closed()).ok(),
            Some(Exit::ProblemsFound)
        );
        assert_eq!(
            Exit::after_output(Exit::Clean, closed()).ok(),
            Some(Exit::Clean)
        );
        assert!(Exit::after_output(Exit::Clean, Err(Error::other("disk full"))).is_err());
    }
}

//! What the build shows while it runs: on a terminal, one spinner per
//! running target with its latest make step (indicatif); otherwise plain
//! lines, one when a target starts and one when it ends.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

pub struct Ui {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Ui {
    /// Spinners when standard error is a terminal (and `TERM` is not
    /// `dumb`), plain lines otherwise.
    pub fn new() -> Ui {
        let terminal =
            std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        Ui {
            multi: terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// Plain lines only.
    pub fn plain() -> Ui {
        Ui {
            multi: None,
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// A message above the spinners.
    pub fn note(&self, message: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(format!("gluonvpn: {message}"));
            }
            None => eprintln!("gluonvpn: {message}"),
        }
    }

    pub fn start(&self, name: &str, what: &str) {
        match &self.multi {
            Some(m) => {
                let bar = m.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix:.bold} {elapsed:>4} {wide_msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(name.to_string());
                bar.set_message(what.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut bars) = self.bars.lock() {
                    bars.insert(name.to_string(), bar);
                }
            }
            None => eprintln!("gluonvpn: {name}: {what}"),
        }
    }

    /// A line of make's output worth showing as the target's current step.
    pub fn step(&self, name: &str, line: &str) {
        if self.multi.is_none() {
            return;
        }
        if let Ok(bars) = self.bars.lock() {
            if let Some(bar) = bars.get(name) {
                bar.set_message(line.to_string());
            }
        }
    }

    pub fn finish(&self, name: &str, message: &str) {
        let bar = self.bars.lock().ok().and_then(|mut b| b.remove(name));
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        self.note(&format!("{name}: {message}"));
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui::new()
    }
}

/// `1h 02m 03s`, `4m 05s`, `6s`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, s) => format!("{h}h {m:02}m {s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(super::duration(Duration::from_secs(6)), "6s");
        assert_eq!(super::duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(super::duration(Duration::from_secs(3723)), "1h 02m 03s");
    }
}

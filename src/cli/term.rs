//! How output fits and looks at a terminal, decided once per run: the
//! width of stdout's terminal (tables fit it; a pipe gets every column and
//! every detail), and whether stdout and stderr get colour (`NO_COLOR`
//! wins, then `CLICOLOR_FORCE`, then `CLICOLOR=0`; otherwise a terminal
//! that is not `dumb`), as clap and ripgrep decide.

use crate::settings::Display;
use anstyle::{AnsiColor, Style};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::OnceLock;

struct Term {
    /// Columns of stdout's terminal; `None` when stdout is not one.
    width: Option<usize>,
    color_out: bool,
    color_err: bool,
}

static TERM: OnceLock<Term> = OnceLock::new();

/// Decides, from the settings read at start-up. Later calls change nothing.
pub fn init(d: &Display) {
    let _ = TERM.set(decide(
        d,
        std::io::stdout().is_terminal(),
        std::io::stderr().is_terminal(),
        terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0 as usize),
    ));
}

fn decide(d: &Display, out_tty: bool, err_tty: bool, size: Option<usize>) -> Term {
    let color = |tty: bool| {
        !d.no_color && (d.clicolor_force || (!d.clicolor_off && tty && d.term_supports_color))
    };
    Term {
        width: out_tty.then(|| d.columns.or(size).unwrap_or(80)),
        color_out: color(out_tty),
        color_err: color(err_tty),
    }
}

fn term() -> &'static Term {
    TERM.get_or_init(|| decide(&Display::default(), false, false, None))
}

/// The width tables fit in: stdout's terminal's, or `None` into a pipe.
pub fn width() -> Option<usize> {
    term().width
}

/// What a word means, for its colour.
#[derive(Clone, Copy)]
pub enum Tone {
    Good,
    Warn,
    Bad,
}

fn style(t: Tone) -> Style {
    match t {
        Tone::Good => AnsiColor::Green.on_default(),
        Tone::Warn => AnsiColor::Yellow.on_default(),
        Tone::Bad => AnsiColor::Red.on_default().bold(),
    }
}

fn paint(s: &str, t: Tone, on: bool) -> Cow<'_, str> {
    if on {
        let st = style(t);
        Cow::Owned(format!("{st}{s}{st:#}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// `s` in the colour of `t`, for stdout.
pub fn out(s: &str, t: Tone) -> Cow<'_, str> {
    paint(s, t, term().color_out)
}

/// `s` in the colour of `t`, for stderr.
pub fn err(s: &str, t: Tone) -> Cow<'_, str> {
    paint(s, t, term().color_err)
}

/// The tone of a config's status (`list`, `show`, `test`).
pub fn status_tone(status: &str) -> Tone {
    match status {
        "Active" | "ok" | "OK" | "passed" => Tone::Good,
        "Expired" | "Untested" | "not testable" | "WARN" => Tone::Warn,
        _ => Tone::Bad,
    }
}

/// A cell in the colour of `t` (when stdout gets colour).
pub fn cell(s: &str, t: Tone) -> comfy_table::Cell {
    use comfy_table::{Attribute, Cell, Color};
    let c = Cell::new(s);
    if !term().color_out {
        return c;
    }
    match t {
        Tone::Good => c.fg(Color::Green),
        Tone::Warn => c.fg(Color::Yellow),
        Tone::Bad => c.fg(Color::Red).add_attribute(Attribute::Bold),
    }
}

/// A table for stdout: at a terminal it fits the width (cells wrap, a
/// row's cells are cut at `max_lines` with `…`); into a pipe every cell is
/// whole.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    if term().color_out {
        t.enforce_styling();
    }
    match width() {
        Some(w) => {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w.min(u16::MAX as usize) as u16)
                .set_truncation_indicator("…");
        }
        None => {
            t.force_no_tty()
                .set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t
}

/// Fits a filled `table` to the terminal before it is printed: the
/// columns in `whole` keep their content's width (short words, ids), the
/// columns in `drop_order` are hidden, least needed first, while the
/// table's narrowest layout would not fit (one column dropped rather than
/// every cell wrapped); the rest wrap. Into a pipe nothing changes.
pub fn fit_table(table: &mut Table, whole: &[usize], drop_order: &[usize]) {
    use comfy_table::ColumnConstraint;
    let Some(limit) = width() else {
        return;
    };
    let content: Vec<usize> = table
        .column_max_content_widths()
        .iter()
        .map(|w| *w as usize + 2)
        .collect();
    // What a column needs at least: its whole content if kept whole, else
    // its longest word (a wrapped cell breaks between words).
    let need: Vec<usize> = content
        .iter()
        .enumerate()
        .map(|(i, w)| if whole.contains(&i) { *w } else { (*w).min(14) })
        .collect();
    let shown = fit_columns(&need, 1, limit.saturating_sub(1), drop_order);
    let constraints: Vec<ColumnConstraint> = (0..content.len())
        .map(|i| {
            if !shown[i] {
                ColumnConstraint::Hidden
            } else if whole.contains(&i) {
                ColumnConstraint::ContentWidth
            } else {
                ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(need[i].min(14) as u16))
            }
        })
        .collect();
    table.set_constraints(constraints);
}

/// Columns to keep so that a listing of `widths` (separated by `gap`)
/// fits `limit`: drops columns in `drop_order` (least needed first) until
/// it fits or only those not in it are left. Returns which to show.
pub fn fit_columns(widths: &[usize], gap: usize, limit: usize, drop_order: &[usize]) -> Vec<bool> {
    let mut shown = vec![true; widths.len()];
    let total = |shown: &[bool]| -> usize {
        let cols: Vec<usize> = widths
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .map(|(w, _)| *w)
            .collect();
        cols.iter().sum::<usize>() + gap * cols.len().saturating_sub(1)
    };
    for &i in drop_order {
        if total(&shown) <= limit {
            break;
        }
        shown[i] = false;
    }
    shown
}

/// Whether authcfg's stdin and stdout are both terminals: a command whose
/// output is masked then runs on a pseudo-terminal (`ops::run::pty`).
pub fn interactive_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_conventions() {
        let tty = Display {
            term_supports_color: true,
            ..Display::default()
        };
        assert!(decide(&tty, true, true, None).color_out);
        assert!(
            !decide(&tty, false, true, None).color_out,
            "a pipe gets none"
        );
        let no = Display {
            no_color: true,
            clicolor_force: true,
            ..tty.clone()
        };
        assert!(!decide(&no, true, true, None).color_out, "NO_COLOR wins");
        let force = Display {
            clicolor_force: true,
            ..Display::default()
        };
        assert!(decide(&force, false, false, None).color_out);
        let off = Display {
            clicolor_off: true,
            ..tty.clone()
        };
        assert!(!decide(&off, true, true, None).color_err);
        let dumb = Display::default();
        assert!(!decide(&dumb, true, true, None).color_out, "TERM=dumb");
    }

    #[test]
    fn width_is_the_terminal_s_or_none_into_a_pipe() {
        let d = Display::default();
        assert_eq!(decide(&d, true, true, Some(132)).width, Some(132));
        assert_eq!(decide(&d, false, true, Some(132)).width, None);
        let cols = Display {
            columns: Some(60),
            ..d
        };
        assert_eq!(decide(&cols, true, true, Some(132)).width, Some(60));
    }

    #[test]
    fn columns_are_dropped_least_needed_first() {
        let w = [10, 10, 10, 10];
        assert_eq!(fit_columns(&w, 2, 100, &[3, 2]), [true; 4]);
        assert_eq!(fit_columns(&w, 2, 34, &[3, 2]), [true, true, true, false]);
        assert_eq!(fit_columns(&w, 2, 10, &[3, 2]), [true, true, false, false]);
    }
}

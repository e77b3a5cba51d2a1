//! The `phiguard redact` line filter: exactly one output line per input line,
//! streaming, never emitting a line it could not scan.

use std::io::{self, BufRead, Write};

use crate::profile::Profile;
use crate::types::Outcome;

/// Longest line scanned; longer lines are replaced by a marker (fail closed).
pub const MAX_LINE: usize = 1 << 20;

/// Counters reported after a filter run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FilterStats {
    /// Lines read (= lines written).
    pub lines: u64,
    /// Lines rewritten.
    pub redacted: u64,
    /// Lines replaced because a finding's action was `block`.
    pub blocked: u64,
    /// Lines replaced because they could not be scanned (bounds, over-long).
    pub unscannable: u64,
    /// Findings in total.
    pub findings: u64,
}

/// Reads lines from `input`, writes each redacted line to `output`.
///
/// Line endings (`\n` or `\r\n`) are preserved; a last line without a newline
/// stays without one. Bytes are scanned as bytes, so invalid UTF-8 neither
/// stops the filter nor drops a line. Output is flushed whenever the reader's
/// buffer is drained (before a read that may block), so a slow log source is
/// not held back.
pub fn run<R: BufRead, W: Write>(
    mut input: R,
    output: W,
    profile: &Profile,
) -> io::Result<FilterStats> {
    let mut out = io::BufWriter::with_capacity(64 << 10, output);
    let mut stats = FilterStats::default();
    let mut line: Vec<u8> = Vec::with_capacity(4096);
    let mut overlong = false;
    let mut drained = true;
    loop {
        if drained {
            out.flush()?;
        }
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if !line.is_empty() || overlong {
                emit(&line, overlong, b"", profile, &mut out, &mut stats)?;
            }
            out.flush()?;
            return Ok(stats);
        }
        let (chunk, complete) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let used = chunk.len();
        drained = used == buf.len();
        if !overlong {
            if line.len() + used > MAX_LINE + 2 {
                overlong = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        input.consume(used);
        if complete {
            let mut content: &[u8] = &line;
            let mut ending: &[u8] = b"\n";
            if overlong {
                content = b"";
            } else {
                content = &content[..content.len() - 1];
                if let Some(c) = content.strip_suffix(b"\r") {
                    content = c;
                    ending = b"\r\n";
                }
            }
            emit(content, overlong, ending, profile, &mut out, &mut stats)?;
            line.clear();
            overlong = false;
        }
    }
}

fn emit<W: Write>(
    content: &[u8],
    overlong: bool,
    ending: &[u8],
    profile: &Profile,
    out: &mut W,
    stats: &mut FilterStats,
) -> io::Result<()> {
    stats.lines += 1;
    if overlong {
        stats.unscannable += 1;
        out.write_all(b"[UNSCANNABLE: line too long]")?;
        return out.write_all(ending);
    }
    let outcome = profile.redact_auto(content);
    stats.findings += outcome.findings().len() as u64;
    match &outcome {
        Outcome::Clean => out.write_all(content)?,
        Outcome::Redacted { output, .. } => {
            stats.redacted += 1;
            // A rewrite never introduces a newline (values are re-encoded), but
            // guard the one-line-per-line contract anyway.
            let mut rest: &[u8] = output;
            while let Some(i) = memchr::memchr(b'\n', rest) {
                out.write_all(&rest[..i])?;
                out.write_all(b" ")?;
                rest = &rest[i + 1..];
            }
            out.write_all(rest)?;
        }
        Outcome::Blocked { findings } => {
            stats.blocked += 1;
            write!(out, "[BLOCKED: {} finding(s)]", findings.len())?;
        }
        Outcome::Unscannable { reason } => {
            stats.unscannable += 1;
            write!(out, "[UNSCANNABLE: {reason}]")?;
        }
    }
    out.write_all(ending)
}

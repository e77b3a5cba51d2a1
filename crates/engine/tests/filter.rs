//! The `phiguard redact` line filter: one line out per line in, any bytes.

use std::io::{BufReader, Read};

use phiguard_engine::{filter, Profile};

#[test]
fn one_line_out_per_line_in() {
    let input: &[u8] = b"plain line\n\
email=jane%40example.com&v=1\r\n\
{\"ph\":\"212-555-0143\"}\n\
\n\
bad utf8 \xff\xfe jane@example.com \xc3\n\
{not json jane@example.com\n\
last line without newline 219-44-5678";
    let mut out = Vec::new();
    let stats = filter::run(
        BufReader::with_capacity(16, input),
        &mut out,
        &Profile::builtin_default(),
    )
    .unwrap();
    let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(stats.lines, 7);
    assert_eq!(lines[0], b"plain line");
    assert_eq!(lines[1], b"email=[REDACTED:EMAIL]&v=1\r");
    assert_eq!(lines[2], b"{\"ph\":\"[REDACTED:PHONE]\"}");
    assert_eq!(lines[3], b"");
    assert_eq!(lines[4], b"bad utf8 \xff\xfe [REDACTED:EMAIL] \xc3");
    assert_eq!(lines[5], b"{not json [REDACTED:EMAIL]");
    assert_eq!(lines[6], b"last line without newline [REDACTED:SSN]");
    assert_eq!(stats.redacted, 5);
}

#[test]
fn overlong_lines_fail_closed_without_losing_sync() {
    let mut input = vec![b'a'; filter::MAX_LINE + 10];
    input.extend_from_slice(b" jane@example.com\nnext 219-44-5678\n");
    let mut out = Vec::new();
    let stats = filter::run(&input[..], &mut out, &Profile::builtin_default()).unwrap();
    assert_eq!(stats.unscannable, 1);
    assert_eq!(out, b"[UNSCANNABLE: line too long]\nnext [REDACTED:SSN]\n");
}

/// A reader that returns at most a few bytes per read, like a pipe.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(3).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn trickling_input() {
    let input = b"a jane@example.com b\nc\n";
    let mut out = Vec::new();
    filter::run(
        BufReader::new(Trickle(input)),
        &mut out,
        &Profile::builtin_default(),
    )
    .unwrap();
    assert_eq!(out, b"a [REDACTED:EMAIL] b\nc\n");
}

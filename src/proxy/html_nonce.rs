//! Streaming insertion of a CSP nonce into the inline `<script>` and `<style>` start tags of
//! an HTML body.
//!
//! A small tokenizer following the WHATWG HTML tokenizer's states where they matter for
//! finding real start tags: data, tag open, tag name, attributes (quoted and unquoted
//! values), comments and bogus comments (`<!…>`, `<?…>`, `<!DOCTYPE …>`), the raw-text
//! content of `<script>` (with its escaped and double-escaped states), of `<style>`,
//! `<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`, `<noscript>`, `<title>`, `<textarea>`
//! (until their matching end tag) and `<plaintext>` (to the end). So `<script` inside a
//! script body, a comment or an attribute value is left alone.
//!
//! Only **inline** elements get the nonce: a `<script src=…>` does not, since a nonce would
//! let a third-party script past the policy's host list. ` nonce="N"` is inserted just before
//! the start tag's `>` (`<script type=module nonce="N">`), once the tag's attributes are
//! known. A tag that already carries a `nonce` keeps it first (HTML keeps the first of
//! duplicate attributes), so a stale or injected nonce is still refused by the browser:
//! the policy holds only this response's nonce. A tag whose last attribute is a bare `a=`
//! gets no nonce (inserting there would become that attribute's value) and stays blocked.
//!
//! All state lives in the struct: a tag split across chunks needs no carried bytes, and
//! rewriting a body in any split gives the same bytes as rewriting it whole. A chunk without
//! a script or style start tag is passed through without a copy.
//!
//! Not modelled (no effect on which tags are real start tags in an HTML document): foreign
//! content (SVG/MathML, where `<script>` bodies are tokenized as markup and CDATA sections
//! exist) and character references.

use bytes::{Bytes, BytesMut};

use crate::policy::csp::Nonce;

/// Longest tag name remembered (`plaintext`, `noframes`, `textarea`).
const NAME_MAX: usize = 9;

/// Longest attribute name remembered (`src`).
const ATTR_MAX: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    TagOpen,
    EndTagOpen,
    TagName,
    BeforeAttrName,
    AttrName,
    AfterAttrName,
    BeforeAttrValue,
    AttrValueDq,
    AttrValueSq,
    AttrValueUnq,
    SelfClosing,
    MarkupOpen,
    MarkupDash,
    BogusComment,
    CommentStart,
    CommentStartDash,
    Comment,
    CommentEndDash,
    CommentEnd,
    CommentEndBang,
    Raw,
    RawLt,
    RawEndOpen,
    RawEndName,
    Script,
    ScriptLt,
    ScriptEndOpen,
    ScriptEndName,
    ScriptEscStart,
    ScriptEscStartDash,
    ScriptEsc,
    ScriptEscDash,
    ScriptEscDashDash,
    ScriptEscLt,
    ScriptEscEndOpen,
    ScriptEscEndName,
    ScriptDblEscStart,
    ScriptDblEsc,
    ScriptDblEscDash,
    ScriptDblEscDashDash,
    ScriptDblEscLt,
    ScriptDblEscEnd,
    Plaintext,
}

/// What a start tag's `>` switches the tokenizer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Markup,
    Script,
    /// Raw text (or RCDATA) until `</name`.
    Raw(&'static [u8]),
    Plaintext,
}

const RAW_ELEMENTS: &[&[u8]] = &[
    b"style",
    b"xmp",
    b"iframe",
    b"noembed",
    b"noframes",
    b"noscript",
    b"title",
    b"textarea",
];

/// Inserts one response's nonce into its HTML body, chunk by chunk.
#[derive(Debug)]
pub struct NonceInjector {
    state: State,
    name: [u8; NAME_MAX],
    name_len: usize,
    end_tag: bool,
    /// Content of the element whose start tag is being read (set when its name ends).
    next_content: Content,
    /// The raw-text element whose end tag is awaited.
    raw_end: &'static [u8],
    /// The start tag being read is a `<script>` or `<style>` that gets the nonce at its
    /// `>` unless it turns out to load an external script (`src`).
    wants_nonce: bool,
    /// The current attribute name (lowercased, first [`ATTR_MAX`] bytes) and its length.
    attr: [u8; ATTR_MAX],
    attr_len: usize,
    /// ` nonce="N"`.
    attribute: [u8; 9 + crate::policy::csp::NONCE_LEN],
    /// Insertion offsets within the current chunk (kept to reuse the allocation).
    offsets: Vec<usize>,
    inserted: u64,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

impl NonceInjector {
    /// A rewriter for one response whose CSP carries `nonce`.
    pub fn new(nonce: &Nonce) -> Self {
        let mut attribute = [0u8; 9 + crate::policy::csp::NONCE_LEN];
        attribute[..8].copy_from_slice(b" nonce=\"");
        attribute[8..8 + crate::policy::csp::NONCE_LEN].copy_from_slice(nonce.as_bytes());
        attribute[8 + crate::policy::csp::NONCE_LEN] = b'"';
        Self {
            state: State::Data,
            name: [0; NAME_MAX],
            name_len: 0,
            end_tag: false,
            next_content: Content::Markup,
            raw_end: b"",
            wants_nonce: false,
            attr: [0; ATTR_MAX],
            attr_len: 0,
            attribute,
            offsets: Vec::new(),
            inserted: 0,
        }
    }

    /// How many tags got the nonce so far.
    pub fn inserted(&self) -> u64 {
        self.inserted
    }

    /// Rewrites the next chunk of the body; returns it unchanged (no copy) when it holds no
    /// script or style start tag.
    pub fn rewrite(&mut self, chunk: Bytes) -> Bytes {
        self.scan(&chunk);
        if self.offsets.is_empty() {
            return chunk;
        }
        let mut out =
            BytesMut::with_capacity(chunk.len() + self.offsets.len() * self.attribute.len());
        self.splice(&chunk, &mut out);
        out.freeze()
    }

    /// Rewrites the next chunk of the body, appending the result to `out`.
    pub fn rewrite_into(&mut self, chunk: &[u8], out: &mut BytesMut) {
        self.scan(chunk);
        self.splice(chunk, out);
    }

    fn splice(&mut self, chunk: &[u8], out: &mut BytesMut) {
        out.reserve(chunk.len() + self.offsets.len() * self.attribute.len());
        let mut from = 0;
        for &at in &self.offsets {
            out.extend_from_slice(&chunk[from..at]);
            out.extend_from_slice(&self.attribute);
            from = at;
        }
        out.extend_from_slice(&chunk[from..]);
        self.inserted += self.offsets.len() as u64;
        self.offsets.clear();
    }

    fn start_name(&mut self, end_tag: bool) {
        self.name_len = 0;
        self.end_tag = end_tag;
    }

    fn push_name(&mut self, b: u8) {
        if self.name_len < NAME_MAX {
            self.name[self.name_len] = b.to_ascii_lowercase();
        }
        self.name_len = self.name_len.saturating_add(1);
    }

    fn name_is(&self, name: &[u8]) -> bool {
        self.name_len == name.len() && &self.name[..name.len()] == name
    }

    /// The tag name ended.
    fn name_ended(&mut self) {
        self.next_content = Content::Markup;
        self.wants_nonce = false;
        if self.end_tag {
            return;
        }
        if self.name_is(b"script") {
            self.wants_nonce = true;
            self.next_content = Content::Script;
        } else if self.name_is(b"style") {
            self.wants_nonce = true;
            self.next_content = Content::Raw(b"style");
        } else if self.name_is(b"plaintext") {
            self.next_content = Content::Plaintext;
        } else if let Some(raw) = RAW_ELEMENTS.iter().copied().find(|r| self.name_is(r)) {
            self.next_content = Content::Raw(raw);
        }
    }

    /// An attribute name starts with `b`.
    fn start_attr(&mut self, b: u8) {
        self.attr_len = 0;
        self.push_attr(b);
    }

    fn push_attr(&mut self, b: u8) {
        if self.attr_len < ATTR_MAX {
            self.attr[self.attr_len] = b.to_ascii_lowercase();
        }
        self.attr_len = self.attr_len.saturating_add(1);
    }

    /// The attribute name ended: a `src` makes the script external (no nonce).
    fn attr_ended(&mut self) {
        if self.attr_len == 3 && &self.attr == b"src" {
            self.wants_nonce = false;
        }
    }

    /// The tag's `>` at offset `at` of the chunk: inserts the nonce before it when the tag
    /// is an inline script or style; gives where the tokenizer goes next.
    fn tag_closed(&mut self, at: usize) -> State {
        if self.end_tag {
            return State::Data;
        }
        if self.wants_nonce {
            self.offsets.push(at);
            self.wants_nonce = false;
        }
        match self.next_content {
            Content::Markup => State::Data,
            Content::Script => State::Script,
            Content::Raw(name) => {
                self.raw_end = name;
                State::Raw
            }
            Content::Plaintext => State::Plaintext,
        }
    }

    /// An appropriate end tag's name ended with `b`.
    fn end_tag_name_ended(&mut self, b: u8) -> State {
        self.end_tag = true;
        self.next_content = Content::Markup;
        match b {
            b'/' => State::SelfClosing,
            b'>' => State::Data,
            _ => State::BeforeAttrName,
        }
    }

    fn scan(&mut self, chunk: &[u8]) {
        use State::*;
        let mut i = 0;
        let n = chunk.len();
        while i < n {
            // Fast skips for states that wait for one or two bytes.
            match self.state {
                Data => match memchr::memchr(b'<', &chunk[i..]) {
                    Some(p) => {
                        i += p + 1;
                        self.state = TagOpen;
                        continue;
                    }
                    None => return,
                },
                Script => match memchr::memchr(b'<', &chunk[i..]) {
                    Some(p) => {
                        i += p + 1;
                        self.state = ScriptLt;
                        continue;
                    }
                    None => return,
                },
                Raw => match memchr::memchr(b'<', &chunk[i..]) {
                    Some(p) => {
                        i += p + 1;
                        self.state = RawLt;
                        continue;
                    }
                    None => return,
                },
                BogusComment => match memchr::memchr(b'>', &chunk[i..]) {
                    Some(p) => {
                        i += p + 1;
                        self.state = Data;
                        continue;
                    }
                    None => return,
                },
                AttrValueDq | AttrValueSq => {
                    let quote = if self.state == AttrValueDq {
                        b'"'
                    } else {
                        b'\''
                    };
                    match memchr::memchr(quote, &chunk[i..]) {
                        Some(p) => {
                            i += p + 1;
                            self.state = BeforeAttrName;
                            continue;
                        }
                        None => return,
                    }
                }
                Comment => match memchr::memchr(b'-', &chunk[i..]) {
                    Some(p) => {
                        i += p + 1;
                        self.state = CommentEndDash;
                        continue;
                    }
                    None => return,
                },
                ScriptEsc | ScriptDblEsc => match memchr::memchr2(b'-', b'<', &chunk[i..]) {
                    Some(p) => i += p,
                    None => return,
                },
                Plaintext => return,
                _ => {}
            }
            let b = chunk[i];
            // `consume` false: the byte is looked at again in the new state.
            let (next, consume) = match self.state {
                TagOpen => match b {
                    b'!' => (MarkupOpen, true),
                    b'/' => (EndTagOpen, true),
                    b'?' => (BogusComment, true),
                    _ if b.is_ascii_alphabetic() => {
                        self.start_name(false);
                        (TagName, false)
                    }
                    _ => (Data, false),
                },
                EndTagOpen => match b {
                    _ if b.is_ascii_alphabetic() => {
                        self.start_name(true);
                        (TagName, false)
                    }
                    b'>' => (Data, true),
                    _ => (BogusComment, false),
                },
                TagName => match b {
                    _ if is_ws(b) => {
                        self.name_ended();
                        (BeforeAttrName, true)
                    }
                    b'/' => {
                        self.name_ended();
                        (SelfClosing, true)
                    }
                    b'>' => {
                        self.name_ended();
                        (self.tag_closed(i), true)
                    }
                    _ => {
                        self.push_name(b);
                        (TagName, true)
                    }
                },
                BeforeAttrName => match b {
                    _ if is_ws(b) => (BeforeAttrName, true),
                    b'/' => (SelfClosing, true),
                    b'>' => (self.tag_closed(i), true),
                    _ => {
                        self.start_attr(b);
                        (AttrName, true)
                    }
                },
                AttrName => match b {
                    _ if is_ws(b) => {
                        self.attr_ended();
                        (AfterAttrName, true)
                    }
                    b'/' => {
                        self.attr_ended();
                        (SelfClosing, true)
                    }
                    b'>' => {
                        self.attr_ended();
                        (self.tag_closed(i), true)
                    }
                    b'=' => {
                        self.attr_ended();
                        (BeforeAttrValue, true)
                    }
                    _ => {
                        self.push_attr(b);
                        (AttrName, true)
                    }
                },
                AfterAttrName => match b {
                    _ if is_ws(b) => (AfterAttrName, true),
                    b'/' => (SelfClosing, true),
                    b'=' => (BeforeAttrValue, true),
                    b'>' => (self.tag_closed(i), true),
                    _ => {
                        self.start_attr(b);
                        (AttrName, true)
                    }
                },
                BeforeAttrValue => match b {
                    _ if is_ws(b) => (BeforeAttrValue, true),
                    b'"' => (AttrValueDq, true),
                    b'\'' => (AttrValueSq, true),
                    b'>' => {
                        // `a=>`: a nonce inserted here would become `a`'s value.
                        self.wants_nonce = false;
                        (self.tag_closed(i), true)
                    }
                    _ => (AttrValueUnq, false),
                },
                AttrValueUnq => match b {
                    _ if is_ws(b) => (BeforeAttrName, true),
                    b'>' => (self.tag_closed(i), true),
                    _ => (AttrValueUnq, true),
                },
                SelfClosing => match b {
                    // A self-closing flag on a non-void element is ignored by HTML:
                    // `<script/>` still opens a script.
                    b'>' => (self.tag_closed(i), true),
                    _ => (BeforeAttrName, false),
                },
                MarkupOpen => match b {
                    b'-' => (MarkupDash, true),
                    _ => (BogusComment, false),
                },
                MarkupDash => match b {
                    b'-' => (CommentStart, true),
                    _ => (BogusComment, false),
                },
                CommentStart => match b {
                    b'-' => (CommentStartDash, true),
                    b'>' => (Data, true),
                    _ => (Comment, false),
                },
                CommentStartDash => match b {
                    b'-' => (CommentEnd, true),
                    b'>' => (Data, true),
                    _ => (Comment, false),
                },
                CommentEndDash => match b {
                    b'-' => (CommentEnd, true),
                    _ => (Comment, false),
                },
                CommentEnd => match b {
                    b'>' => (Data, true),
                    b'!' => (CommentEndBang, true),
                    b'-' => (CommentEnd, true),
                    _ => (Comment, false),
                },
                CommentEndBang => match b {
                    b'-' => (CommentEndDash, true),
                    b'>' => (Data, true),
                    _ => (Comment, false),
                },
                RawLt => match b {
                    b'/' => (RawEndOpen, true),
                    _ => (Raw, false),
                },
                RawEndOpen => match b {
                    _ if b.is_ascii_alphabetic() => {
                        self.start_name(true);
                        (RawEndName, false)
                    }
                    _ => (Raw, false),
                },
                RawEndName => match b {
                    _ if b.is_ascii_alphabetic() => {
                        self.push_name(b);
                        (RawEndName, true)
                    }
                    b'/' | b'>' if self.name_is(self.raw_end) => (self.end_tag_name_ended(b), true),
                    _ if is_ws(b) && self.name_is(self.raw_end) => {
                        (self.end_tag_name_ended(b), true)
                    }
                    _ => (Raw, false),
                },
                ScriptLt => match b {
                    b'/' => (ScriptEndOpen, true),
                    b'!' => (ScriptEscStart, true),
                    _ => (Script, false),
                },
                ScriptEndOpen => match b {
                    _ if b.is_ascii_alphabetic() => {
                        self.start_name(true);
                        (ScriptEndName, false)
                    }
                    _ => (Script, false),
                },
                ScriptEndName | ScriptEscEndName => {
                    let fallback = if self.state == ScriptEndName {
                        Script
                    } else {
                        ScriptEsc
                    };
                    match b {
                        _ if b.is_ascii_alphabetic() => {
                            self.push_name(b);
                            (self.state, true)
                        }
                        _ if (is_ws(b) || b == b'/' || b == b'>') && self.name_is(b"script") => {
                            (self.end_tag_name_ended(b), true)
                        }
                        _ => (fallback, false),
                    }
                }
                ScriptEscStart => match b {
                    b'-' => (ScriptEscStartDash, true),
                    _ => (Script, false),
                },
                ScriptEscStartDash => match b {
                    b'-' => (ScriptEscDashDash, true),
                    _ => (Script, false),
                },
                ScriptEsc => match b {
                    b'-' => (ScriptEscDash, true),
                    b'<' => (ScriptEscLt, true),
                    _ => (ScriptEsc, true),
                },
                ScriptEscDash => match b {
                    b'-' => (ScriptEscDashDash, true),
                    b'<' => (ScriptEscLt, true),
                    _ => (ScriptEsc, true),
                },
                ScriptEscDashDash => match b {
                    b'-' => (ScriptEscDashDash, true),
                    b'<' => (ScriptEscLt, true),
                    b'>' => (Script, true),
                    _ => (ScriptEsc, true),
                },
                ScriptEscLt => match b {
                    b'/' => (ScriptEscEndOpen, true),
                    _ if b.is_ascii_alphabetic() => {
                        self.start_name(false);
                        (ScriptDblEscStart, false)
                    }
                    _ => (ScriptEsc, false),
                },
                ScriptEscEndOpen => match b {
                    _ if b.is_ascii_alphabetic() => {
                        self.start_name(true);
                        (ScriptEscEndName, false)
                    }
                    _ => (ScriptEsc, false),
                },
                ScriptDblEscStart => match b {
                    _ if is_ws(b) || b == b'/' || b == b'>' => {
                        if self.name_is(b"script") {
                            (ScriptDblEsc, true)
                        } else {
                            (ScriptEsc, true)
                        }
                    }
                    _ if b.is_ascii_alphabetic() => {
                        self.push_name(b);
                        (ScriptDblEscStart, true)
                    }
                    _ => (ScriptEsc, false),
                },
                ScriptDblEsc => match b {
                    b'-' => (ScriptDblEscDash, true),
                    b'<' => (ScriptDblEscLt, true),
                    _ => (ScriptDblEsc, true),
                },
                ScriptDblEscDash => match b {
                    b'-' => (ScriptDblEscDashDash, true),
                    b'<' => (ScriptDblEscLt, true),
                    _ => (ScriptDblEsc, true),
                },
                ScriptDblEscDashDash => match b {
                    b'-' => (ScriptDblEscDashDash, true),
                    b'<' => (ScriptDblEscLt, true),
                    b'>' => (Script, true),
                    _ => (ScriptDblEsc, true),
                },
                ScriptDblEscLt => match b {
                    b'/' => {
                        self.start_name(true);
                        (ScriptDblEscEnd, true)
                    }
                    _ => (ScriptDblEsc, false),
                },
                ScriptDblEscEnd => match b {
                    _ if is_ws(b) || b == b'/' || b == b'>' => {
                        if self.name_is(b"script") {
                            (ScriptEsc, true)
                        } else {
                            (ScriptDblEsc, true)
                        }
                    }
                    _ if b.is_ascii_alphabetic() => {
                        self.push_name(b);
                        (ScriptDblEscEnd, true)
                    }
                    _ => (ScriptDblEsc, false),
                },
                // Handled by the fast skips above.
                Data | Script | Raw | BogusComment | AttrValueDq | AttrValueSq | Comment
                | Plaintext => (self.state, true),
            };
            self.state = next;
            if consume {
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nonce() -> Nonce {
        Nonce::generate()
    }

    fn whole(nonce: &Nonce, html: &[u8]) -> Vec<u8> {
        let mut r = NonceInjector::new(nonce);
        r.rewrite(Bytes::copy_from_slice(html)).to_vec()
    }

    fn split(nonce: &Nonce, html: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut r = NonceInjector::new(nonce);
        let mut out = Vec::new();
        let mut from = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (html.len() + 1)).collect();
        cuts.sort_unstable();
        for c in cuts {
            out.extend_from_slice(&r.rewrite(Bytes::copy_from_slice(&html[from..c])));
            from = c;
        }
        out.extend_from_slice(&r.rewrite(Bytes::copy_from_slice(&html[from..])));
        out
    }

    /// The rewrite with the nonce shown as `N`.
    fn shown(html: &str) -> String {
        let n = nonce();
        String::from_utf8(whole(&n, html.as_bytes()))
            .unwrap()
            .replace(n.as_str(), "N")
    }

    #[test]
    fn inline_script_and_style_start_tags_get_the_nonce() {
        assert_eq!(
            shown("<p>x</p><script>a()</script><STYLE media=x>b{}</STYLE><script/>"),
            "<p>x</p><script nonce=\"N\">a()</script><STYLE media=x nonce=\"N\">b{}</STYLE>\
             <script/ nonce=\"N\">"
        );
        assert_eq!(
            shown("<script\ntype=module>x</script>"),
            "<script\ntype=module nonce=\"N\">x</script>"
        );
        // A stale nonce stays first and so stays refused.
        assert_eq!(
            shown("<script nonce=stale>x</script>"),
            "<script nonce=stale nonce=\"N\">x</script>"
        );
    }

    #[test]
    fn external_scripts_get_no_nonce() {
        for html in [
            "<script src=/a.js></script>",
            "<script nonce=\"stale\" src=/a.js></script>",
            "<script SRC=\"https://cdn.example/x.js\" async></script>",
            "<script type=module src></script>",
            "<script async src='x.js'/>",
        ] {
            assert_eq!(shown(html), html, "{html}");
        }
        // Look-alike attribute names are not `src`.
        assert_eq!(
            shown("<script data-src=/a.js srcset=x>y</script>"),
            "<script data-src=/a.js srcset=x nonce=\"N\">y</script>"
        );
        // A bare `a=` before `>` would swallow the nonce as its value: none is inserted.
        assert_eq!(shown("<script a=>x</script>"), "<script a=>x</script>");
    }

    #[test]
    fn lookalikes_are_left_alone() {
        for html in [
            "<!-- <script>x</script> -->",
            "<div title=\"<script>\" data-x='<style>'>",
            "<div title=a<script>b</div>",
            "<scripts>x</scripts><stylesheet>",
            "</script><script-x>",
            "<!DOCTYPE html><?xml <script>?>",
            "<textarea><script>x</script></textarea>",
            "<title><style></title>",
            "<noscript><script>a</script></noscript>",
            "<xmp><script></xmp>",
            "a < script",
        ] {
            assert_eq!(shown(html), html, "{html}");
        }
    }

    #[test]
    fn script_bodies_hide_tags() {
        assert_eq!(
            shown("<script>var s = '<script>'; x = '</scripty>'</script><p>"),
            "<script nonce=\"N\">var s = '<script>'; x = '</scripty>'</script><p>"
        );
        assert_eq!(
            shown("<style>a::after{content:'<script>'}</style><script>"),
            "<style nonce=\"N\">a::after{content:'<script>'}</style><script nonce=\"N\">"
        );
        // A double-escaped `</script>` does not end the script.
        assert_eq!(
            shown("<script><!--<script></script><script>--></script><script>"),
            "<script nonce=\"N\"><!--<script></script><script>--></script><script nonce=\"N\">"
        );
        // An escaped one does.
        assert_eq!(
            shown("<script><!-- x </script><script>"),
            "<script nonce=\"N\"><!-- x </script><script nonce=\"N\">"
        );
    }

    #[test]
    fn comments_end_where_html_says() {
        assert_eq!(shown("<!--><script>"), "<!--><script nonce=\"N\">");
        assert_eq!(shown("<!--->x<script>"), "<!--->x<script nonce=\"N\">");
        assert_eq!(
            shown("<!-- a --!><script>"),
            "<!-- a --!><script nonce=\"N\">"
        );
        assert_eq!(shown("<!-- a -- ><script>"), "<!-- a -- ><script>");
    }

    #[test]
    fn chunks_without_tags_are_not_copied() {
        let n = nonce();
        let mut r = NonceInjector::new(&n);
        let chunk = Bytes::from_static(b"<p>plain text</p>");
        let out = r.rewrite(chunk.clone());
        assert_eq!(out.as_ptr(), chunk.as_ptr());
        assert_eq!(r.inserted(), 0);
    }

    #[test]
    fn a_tag_split_at_every_byte_is_rewritten_once() {
        let n = nonce();
        let html = b"<p a='<script'>x</p><script src=\"/a.js\"></script><!-- <style> -->";
        let expected = whole(&n, html);
        for cut in 0..=html.len() {
            assert_eq!(split(&n, html, &[cut]), expected, "cut at {cut}");
        }
        let byte_by_byte: Vec<usize> = (0..html.len()).collect();
        assert_eq!(split(&n, html, &byte_by_byte), expected);
    }

    fn fragments() -> impl Strategy<Value = Vec<u8>> {
        let parts = prop::sample::select(vec![
            "<",
            ">",
            "/",
            "!",
            "-",
            "--",
            "=",
            "\"",
            "'",
            " ",
            "\n",
            "?",
            "a",
            "x",
            "<script",
            "</script",
            "<SCRIPT",
            "<style",
            "</style",
            "<!--",
            "-->",
            "<textarea",
            "</textarea",
            "<plaintext",
            "script",
            "style",
            "<!",
            "</",
            "<?",
            "é",
        ]);
        prop::collection::vec(parts, 0..60).prop_map(|v| v.concat().into_bytes())
    }

    proptest! {
        #[test]
        fn any_split_rewrites_like_the_whole(html in fragments(), cuts in prop::collection::vec(0usize..10_000, 0..8)) {
            let n = nonce();
            prop_assert_eq!(split(&n, &html, &cuts), whole(&n, &html));
        }

        #[test]
        fn removing_the_nonces_gives_back_the_input(html in fragments()) {
            let n = nonce();
            let out = whole(&n, &html);
            let attribute = format!(" nonce=\"{}\"", n.as_str());
            let back = String::from_utf8_lossy(&out).replace(&attribute, "");
            prop_assert_eq!(back.as_bytes(), &html[..]);
        }
    }
}

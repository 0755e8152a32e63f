//! The low level of VEX: text → `$BLOCK`s → `def ... enddef;` (`scan ...
//! endscan;` in `$SCHED`) → statements, each with its line number. Nothing
//! here knows what a statement means; [`super::build`] does.
//!
//! Syntax (VEX 1.5 definition, "Syntax Rules"; unchanged in VEX 2.0):
//! statements end with `;`, several may share a line and one may span lines;
//! `keyword = value : value : ...;` with fields separated by `:`; a `*` not in
//! a quoted string starts a comment to the end of the line; quoted strings
//! follow C conventions; `ref $BLOCK = def : qualifier ...;` and the external
//! form `ref file:$BLOCK = def;`; literal text between `start_literal(tag);`
//! and `end_literal(tag);`, which must be last and first on their lines. The
//! first statement is `VEX_rev = 1.5;` or `VEX_rev = 2.0;`.
//!
//! A `"` opens a quoted string only at the start of a value; elsewhere it is
//! an ordinary character, as in the arc-seconds mark of `dec = -29d14'30.121";`.

use std::collections::HashMap;

use super::error::{VexError, VexErrorKind};

/// A whole VEX file as statements, before any meaning is given to them.
#[derive(Debug, Clone, PartialEq)]
pub struct VexText {
    /// The file name used in error messages.
    pub file: String,
    /// The value of `VEX_rev` (e.g. `1.5`, `2.0`).
    pub rev: String,
    pub rev_line: usize,
    /// In file order; a block name may occur more than once.
    pub blocks: Vec<Block>,
}

/// One `$NAME;` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Without the `$`.
    pub name: String,
    pub line: usize,
    /// Statements outside any def (the `ref`s of `$GLOBAL`).
    pub statements: Vec<Statement>,
    /// `def`s, or the `scan`s of `$SCHED`, in file order.
    pub defs: Vec<Def>,
}

/// One `def NAME; ... enddef;` (or `scan NAME; ... endscan;`).
#[derive(Debug, Clone, PartialEq)]
pub struct Def {
    pub name: String,
    pub line: usize,
    /// True for `scan ... endscan;`.
    pub scan: bool,
    pub statements: Vec<Statement>,
}

/// One statement and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub line: usize,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `keyword = field : field : ...;`
    Param { keyword: String, fields: Vec<Field> },
    /// `ref $BLOCK = def : qualifier : ...;` (block without `$`), or the
    /// external form `ref file:$BLOCK = def;` with `external = Some(file)`.
    Ref {
        block: String,
        def: String,
        qualifiers: Vec<String>,
        external: Option<String>,
    },
    /// The lines between `start_literal(tag);` and `end_literal(tag);`.
    Literal { tag: String, text: String },
}

/// One `:`-separated value: its text with surrounding white space removed
/// (a number and its unit keep the space between them), and whether it was
/// a quoted string (then `text` has the escapes resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub text: String,
    pub quoted: bool,
}

impl Field {
    /// An empty, unquoted field (`: :`), which VEX uses for "not given".
    pub fn is_empty(&self) -> bool {
        !self.quoted && self.text.is_empty()
    }
}

impl Statement {
    /// The keyword of a parameter statement, `ref $BLOCK` for a ref,
    /// `start_literal` for literal text; used in messages.
    pub fn keyword(&self) -> String {
        match &self.body {
            Body::Param { keyword, .. } => keyword.clone(),
            Body::Ref { block, .. } => format!("ref ${block}"),
            Body::Literal { .. } => "start_literal".to_string(),
        }
    }
}

impl VexText {
    /// Every def of that name in blocks of that name (block without `$`).
    pub fn find_def(&self, block: &str, def: &str) -> Option<&Def> {
        self.blocks
            .iter()
            .filter(|b| b.name == block)
            .flat_map(|b| b.defs.iter())
            .find(|d| d.name == def)
    }

    /// All blocks of that name, in file order.
    pub fn blocks_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Colon,
    Equals,
}

struct RawStmt {
    line: usize,
    toks: Vec<(Tok, usize)>,
    literal: Option<(String, String)>,
}

/// Where the lexer is: the current block and def, for messages.
#[derive(Default)]
struct Context {
    block: Option<String>,
    def: Option<String>,
}

struct Lexer<'a> {
    file: &'a str,
    b: &'a [u8],
    pos: usize,
    line: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

fn ends_word(c: u8) -> bool {
    is_space(c) || matches!(c, b';' | b':' | b'=' | b'*')
}

impl<'a> Lexer<'a> {
    fn err(&self, line: usize, kind: VexErrorKind, msg: impl Into<String>) -> VexError {
        VexError::new(self.file, line, kind, msg)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Skips white space and comments between statements.
    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                self.line += 1;
                self.pos += 1;
            } else if is_space(c) {
                self.pos += 1;
            } else if c == b'*' {
                self.skip_comment();
            } else {
                break;
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    fn rest_starts_with(&self, at: usize, s: &[u8]) -> bool {
        self.b.get(at..).is_some_and(|r| r.starts_with(s))
    }

    /// The next statement, or `None` at the end of the text.
    fn next(&mut self) -> Result<Option<RawStmt>, VexError> {
        self.skip_blank();
        if self.pos >= self.b.len() {
            return Ok(None);
        }
        let start_line = self.line;
        if self.rest_starts_with(self.pos, b"start_literal(") {
            return self.literal(start_line).map(Some);
        }
        let mut toks: Vec<(Tok, usize)> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                let last = toks.last().map_or(start_line, |t| t.1);
                return Err(self.err(
                    last,
                    VexErrorKind::Syntax,
                    "missing ';': the file ends inside this statement",
                ));
            };
            match c {
                b'\n' => {
                    let last_line = self.line;
                    self.line += 1;
                    self.pos += 1;
                    if self.next_line_starts_statement(&toks) {
                        return Err(self.err(
                            last_line,
                            VexErrorKind::Syntax,
                            "missing ';' at the end of this line (the next line starts a new statement)",
                        ));
                    }
                }
                _ if is_space(c) => self.pos += 1,
                0 => {
                    return Err(self.err(
                        self.line,
                        VexErrorKind::Syntax,
                        "NUL byte (not allowed in VEX)",
                    ))
                }
                b'*' => self.skip_comment(),
                b';' => {
                    self.pos += 1;
                    return Ok(Some(RawStmt {
                        line: toks.first().map_or(start_line, |t| t.1),
                        toks,
                        literal: None,
                    }));
                }
                b':' => {
                    toks.push((Tok::Colon, self.line));
                    self.pos += 1;
                }
                b'=' => {
                    toks.push((Tok::Equals, self.line));
                    self.pos += 1;
                }
                b'"' if matches!(toks.last(), None | Some((Tok::Colon | Tok::Equals, _))) => {
                    let line = self.line;
                    let s = self.quoted()?;
                    toks.push((Tok::Quoted(s), line));
                }
                _ => {
                    let from = self.pos;
                    while self.peek().is_some_and(|c| !ends_word(c) && c != 0) {
                        self.pos += 1;
                    }
                    let w = String::from_utf8_lossy(&self.b[from..self.pos]).into_owned();
                    toks.push((Tok::Word(w), self.line));
                }
            }
        }
    }

    /// At a line break inside a statement: does the next non-blank line look
    /// like the start of a new statement? Then the current one lacks its `;`.
    fn next_line_starts_statement(&self, toks: &[(Tok, usize)]) -> bool {
        if toks.is_empty() {
            return false;
        }
        // `$BLOCK`, `def NAME`, `enddef`, `scan NAME`, `endscan` never span lines.
        if let Some((Tok::Word(w), _)) = toks.first() {
            let single_line =
                w.starts_with('$') || ["def", "enddef", "scan", "endscan"].contains(&w.as_str());
            if single_line && !toks.iter().any(|t| t.0 == Tok::Equals) {
                return true;
            }
        }
        // Find the first non-blank, non-comment content after here.
        let mut p = self.pos;
        loop {
            while p < self.b.len() && is_space(self.b[p]) {
                p += 1;
            }
            if p < self.b.len() && self.b[p] == b'*' {
                while p < self.b.len() && self.b[p] != b'\n' {
                    p += 1;
                }
                continue;
            }
            break;
        }
        let rest = &self.b[p.min(self.b.len())..];
        let word_end = rest
            .iter()
            .position(|&c| ends_word(c))
            .unwrap_or(rest.len());
        let word = &rest[..word_end];
        let after = rest[word_end..].iter().copied().find(|&c| !is_space(c));
        match word {
            b"enddef" | b"endscan" => matches!(after, None | Some(b';')),
            b"def" | b"scan" => word_end < rest.len() && is_space(rest[word_end]),
            b"ref" => word_end < rest.len() && is_space(rest[word_end]),
            _ if word.first() == Some(&b'$') && word.len() > 1 => {
                matches!(after, None | Some(b';'))
            }
            _ if word.starts_with(b"start_literal(") => true,
            _ if !word.is_empty() && after == Some(b'=') => toks.iter().any(|t| t.0 == Tok::Equals),
            _ => false,
        }
    }

    /// A quoted string starting at the `"` under the cursor (C escapes).
    fn quoted(&mut self) -> Result<String, VexError> {
        let line = self.line;
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err(line, VexErrorKind::Syntax, "unterminated quoted string"));
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\n' => {
                    return Err(self.err(line, VexErrorKind::Syntax, "unterminated quoted string"))
                }
                0 => {
                    return Err(self.err(
                        line,
                        VexErrorKind::Syntax,
                        "NUL byte (not allowed in VEX)",
                    ))
                }
                b'\\' => {
                    let Some(e) = self.peek() else { continue };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'a' => out.push(0x07),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'v' => out.push(0x0b),
                        b'\n' => self.line += 1,
                        b'x' | b'X' => {
                            let mut v: u32 = 0;
                            let mut n = 0;
                            while n < 2 && self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                                v = v * 16 + (self.b[self.pos] as char).to_digit(16).unwrap_or(0);
                                self.pos += 1;
                                n += 1;
                            }
                            if n == 0 {
                                out.push(e);
                            } else {
                                out.push(v as u8);
                            }
                        }
                        b'0'..=b'7' => {
                            let mut v: u32 = u32::from(e - b'0');
                            let mut n = 1;
                            while n < 3 && self.peek().is_some_and(|c| (b'0'..=b'7').contains(&c)) {
                                v = v * 8 + u32::from(self.b[self.pos] - b'0');
                                self.pos += 1;
                                n += 1;
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                    if out.last() == Some(&0) {
                        return Err(self.err(
                            line,
                            VexErrorKind::Syntax,
                            "NUL byte in a quoted string",
                        ));
                    }
                }
                other => out.push(other),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// `start_literal(tag);` ... `end_literal(tag);` starting at the cursor.
    fn literal(&mut self, start_line: usize) -> Result<RawStmt, VexError> {
        let open = self.pos + b"start_literal(".len();
        let line_end = self.b[open..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| open + p);
        let Some(close) = self.b[open..line_end]
            .iter()
            .position(|&c| c == b')')
            .map(|p| open + p)
        else {
            return Err(self.err(
                start_line,
                VexErrorKind::Syntax,
                "start_literal( without ')' on its line",
            ));
        };
        let tag = String::from_utf8_lossy(&self.b[open..close]).into_owned();
        let after = self.b[close + 1..line_end]
            .iter()
            .copied()
            .find(|&c| !is_space(c));
        if after != Some(b';') {
            return Err(self.err(
                start_line,
                VexErrorKind::Syntax,
                format!("missing ';' after start_literal({tag})"),
            ));
        }
        // The literal text starts on the next line.
        let mut p = line_end;
        let mut line = start_line;
        let mut text_lines: Vec<String> = Vec::new();
        let end_mark = format!("end_literal({tag})");
        loop {
            if p >= self.b.len() {
                return Err(self.err(
                    start_line,
                    VexErrorKind::Syntax,
                    format!("start_literal({tag}) without {end_mark}"),
                ));
            }
            p += 1; // the '\n'
            line += 1;
            let from = p;
            let to = self.b[from..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(self.b.len(), |q| from + q);
            let text = &self.b[from..to];
            let lead = text.iter().take_while(|&&c| is_space(c)).count();
            if text[lead..].starts_with(end_mark.as_bytes()) {
                let tail = from + lead + end_mark.len();
                let semi = self.b[tail..to].iter().copied().find(|&c| !is_space(c));
                if semi != Some(b';') {
                    return Err(self.err(
                        line,
                        VexErrorKind::Syntax,
                        format!("missing ';' after {end_mark}"),
                    ));
                }
                let semi_at = tail
                    + self.b[tail..to]
                        .iter()
                        .position(|&c| c == b';')
                        .unwrap_or(0);
                self.pos = semi_at + 1;
                self.line = line;
                break;
            }
            text_lines.push(String::from_utf8_lossy(text).into_owned());
            p = to;
        }
        Ok(RawStmt {
            line: start_line,
            toks: Vec::new(),
            literal: Some((tag, text_lines.join("\n"))),
        })
    }
}

/// Reads the statement structure of a VEX file. `file` names it in errors.
pub fn parse_text(text: &str, file: &str) -> Result<VexText, VexError> {
    let mut lx = Lexer {
        file,
        b: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut ctx = Context::default();
    let with_ctx = |e: VexError, ctx: &Context| {
        let st = e.statement.clone();
        e.at(ctx.block.clone(), ctx.def.clone(), st)
    };

    // VEX_rev first.
    let first = lx.next()?.ok_or_else(|| {
        VexError::new(
            file,
            1,
            VexErrorKind::Syntax,
            "empty file: not VEX (expected VEX_rev = ...;)",
        )
    })?;
    let (rev, rev_line) = match first.toks.as_slice() {
        [(Tok::Word(k), l), (Tok::Equals, _), (Tok::Word(v), _)] if k == "VEX_rev" => {
            (v.clone(), *l)
        }
        _ => {
            return Err(VexError::new(
                file,
                first.line,
                VexErrorKind::Syntax,
                "not a VEX file: the first statement must be VEX_rev = 1.5; or VEX_rev = 2.0;",
            ))
        }
    };

    let mut blocks: Vec<Block> = Vec::new();
    let mut open: Option<Def> = None;
    // def names seen per block name, for the uniqueness rule.
    let mut seen: HashMap<(String, String), usize> = HashMap::new();

    let close_missing = |d: &Def, why: &str, ctx: &Context| {
        let end = if d.scan { "endscan" } else { "enddef" };
        let kw = if d.scan { "scan" } else { "def" };
        VexError::new(
            file,
            d.line,
            VexErrorKind::Syntax,
            format!("{kw} {} has no {end} ({why})", d.name),
        )
        .at(ctx.block.clone(), Some(d.name.clone()), None)
    };

    loop {
        let raw = match lx.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(with_ctx(e, &ctx)),
        };
        let line = raw.line;
        let err = |msg: String, ctx: &Context| {
            with_ctx(VexError::new(file, line, VexErrorKind::Syntax, msg), ctx)
        };

        if let Some((tag, text)) = raw.literal {
            let Some(d) = open.as_mut() else {
                return Err(err("literal text outside a def".into(), &ctx));
            };
            d.statements.push(Statement {
                line,
                body: Body::Literal { tag, text },
            });
            continue;
        }

        let first_word = match raw.toks.first() {
            Some((Tok::Word(w), _)) => w.clone(),
            Some(_) => return Err(err("a statement must start with a keyword".into(), &ctx)),
            None => return Err(err("empty statement (a lone ';')".into(), &ctx)),
        };
        let n = raw.toks.len();

        // $BLOCK
        if first_word.starts_with('$') && n == 1 {
            if let Some(d) = open.take() {
                return Err(close_missing(
                    &d,
                    &format!("${} starts on line {line}", &first_word[1..]),
                    &ctx,
                ));
            }
            let name = first_word[1..].to_string();
            if name.is_empty() {
                return Err(err("'$' without a block name".into(), &ctx));
            }
            ctx.block = Some(name.clone());
            ctx.def = None;
            blocks.push(Block {
                name,
                line,
                statements: Vec::new(),
                defs: Vec::new(),
            });
            continue;
        }

        // def NAME / scan NAME
        if first_word == "def" || first_word == "scan" {
            let name = match raw.toks.get(1) {
                Some((Tok::Word(w), _)) if n == 2 => w.clone(),
                _ => {
                    return Err(err(
                        format!("{first_word} must be followed by one name and ';'"),
                        &ctx,
                    ))
                }
            };
            if name.contains(['"', '$', '&']) {
                return Err(err(
                    format!("{first_word} {name}: '$', '&' and '\"' are not allowed in names"),
                    &ctx,
                ));
            }
            let Some(block) = blocks.last() else {
                return Err(err(
                    format!("{first_word} {name} before the first $BLOCK"),
                    &ctx,
                ));
            };
            if let Some(d) = open.take() {
                return Err(close_missing(
                    &d,
                    &format!("{first_word} {name} starts on line {line}"),
                    &ctx,
                ));
            }
            let key = (block.name.clone(), name.clone());
            if let Some(prev) = seen.get(&key) {
                let mut e = err(
                    format!("{first_word} {name} is defined twice (first on line {prev})"),
                    &ctx,
                );
                e.detail_mut().kind = VexErrorKind::Value;
                e.detail_mut().def = Some(name.clone());
                return Err(e);
            }
            seen.insert(key, line);
            ctx.def = Some(name.clone());
            open = Some(Def {
                name,
                line,
                scan: first_word == "scan",
                statements: Vec::new(),
            });
            continue;
        }

        if first_word == "enddef" || first_word == "endscan" {
            if n != 1 {
                return Err(err(format!("{first_word} takes nothing before ';'"), &ctx));
            }
            let Some(d) = open.take() else {
                return Err(err(format!("{first_word} without def"), &ctx));
            };
            if d.scan != (first_word == "endscan") {
                let kw = if d.scan { "scan" } else { "def" };
                return Err(err(format!("{first_word} closes {kw} {}", d.name), &ctx));
            }
            ctx.def = None;
            if let Some(b) = blocks.last_mut() {
                b.defs.push(d);
            }
            continue;
        }

        let body = if first_word == "ref" {
            parse_ref(&raw.toks).map_err(|m| err(m, &ctx))?
        } else {
            if !matches!(raw.toks.get(1), Some((Tok::Equals, _))) {
                return Err(err(
                    format!("not a VEX statement: {first_word:?} is not followed by '=' (or a missing ';' before it)"),
                    &ctx,
                ));
            }
            let fields = split_fields(&raw.toks[2..]).map_err(|m| {
                let mut e = err(m, &ctx);
                e.detail_mut().statement = Some(first_word.clone());
                e
            })?;
            Body::Param {
                keyword: first_word,
                fields,
            }
        };
        let st = Statement { line, body };
        match (open.as_mut(), blocks.last_mut()) {
            (Some(d), _) => d.statements.push(st),
            (None, Some(b)) => b.statements.push(st),
            (None, None) => return Err(err("statement before the first $BLOCK".into(), &ctx)),
        }
    }
    if let Some(d) = open.take() {
        return Err(close_missing(&d, "the file ends inside it", &ctx));
    }
    Ok(VexText {
        file: file.to_string(),
        rev,
        rev_line,
        blocks,
    })
}

fn parse_ref(toks: &[(Tok, usize)]) -> Result<Body, String> {
    let word = |i: usize| match toks.get(i) {
        Some((Tok::Word(w), _)) => Some(w.as_str()),
        _ => None,
    };
    let is = |i: usize, t: &Tok| toks.get(i).is_some_and(|x| &x.0 == t);
    // ref $BLOCK = def [: q]...   or   ref file:$BLOCK = def
    let (block, external, def_at) = match (word(1), is(2, &Tok::Colon)) {
        (Some(b), false) if b.starts_with('$') && is(2, &Tok::Equals) => (b.to_string(), None, 3),
        (Some(f), true) => match word(3) {
            Some(b) if b.starts_with('$') && is(4, &Tok::Equals) => {
                (b.to_string(), Some(f.to_string()), 5)
            }
            _ => return Err("bad external ref: expected ref FILE:$BLOCK = DEF;".into()),
        },
        _ => return Err("bad ref: expected ref $BLOCK = DEF;".into()),
    };
    let block = block[1..].to_string();
    if block.is_empty() {
        return Err("bad ref: '$' without a block name".into());
    }
    let Some(def) = word(def_at) else {
        return Err(format!("ref ${block}: no def name after '='"));
    };
    let mut qualifiers = Vec::new();
    let mut i = def_at + 1;
    while i < toks.len() {
        match (&toks[i].0, word(i + 1)) {
            (Tok::Colon, Some(q)) => qualifiers.push(q.to_string()),
            _ => {
                return Err(format!(
                    "ref ${block} = {def}: qualifiers must be ': STATION' each"
                ))
            }
        }
        i += 2;
    }
    if external.is_some() && !qualifiers.is_empty() {
        return Err(format!("external ref ${block} = {def} takes no qualifiers"));
    }
    Ok(Body::Ref {
        block,
        def: def.to_string(),
        qualifiers,
        external,
    })
}

fn split_fields(toks: &[(Tok, usize)]) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    let mut quoted: Option<String> = None;
    let mut push = |words: &mut Vec<&str>, quoted: &mut Option<String>| {
        let f = match quoted.take() {
            Some(q) => Field {
                text: q,
                quoted: true,
            },
            None => Field {
                text: words.join(" "),
                quoted: false,
            },
        };
        words.clear();
        fields.push(f);
    };
    for (t, _) in toks {
        match t {
            Tok::Colon => push(&mut words, &mut quoted),
            Tok::Equals => return Err("'=' inside a value (a missing ';' before it?)".into()),
            Tok::Word(w) => {
                if quoted.is_some() {
                    return Err(format!("{w:?} after a quoted string in the same field"));
                }
                words.push(w);
            }
            Tok::Quoted(q) => {
                if !words.is_empty() || quoted.is_some() {
                    return Err("a quoted string after other text in the same field".into());
                }
                quoted = Some(q.clone());
            }
        }
    }
    push(&mut words, &mut quoted);
    Ok(fields)
}

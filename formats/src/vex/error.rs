//! What can go wrong reading a VEX file, said in one line that names the file,
//! the line, the block, the def and the statement:
//!
//! ```text
//! em2603.vex:123: $FREQ def 8x16MHz: chan_def: bandwidth "16 Mhz": unknown unit "Mhz"
//! ```
//!
//! Also [`Origin`] (where a typed value came from) and [`Note`] (what the
//! parser skipped).

use std::fmt;

/// The class of a [`VexError`], for callers that react differently (the CLI
/// maps `Io` to exit code 3 and everything else to 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexErrorKind {
    /// The file could not be read.
    Io,
    /// The statement structure is broken: a missing `;`, a def without
    /// `enddef`, an unterminated string, something that is not a statement.
    Syntax,
    /// A value cannot be read: a bad number, unit, epoch, angle, too few fields.
    Value,
    /// A `ref` or link names something the file does not define.
    Reference,
    /// The file lacks something a user of the model needs
    /// ([`VexError::missing`]).
    Missing,
}

/// One VEX failure. `Display` is one line:
/// `FILE:LINE: $BLOCK def NAME: statement: message` (the parts that are not
/// known are left out; `LINE` is absent for I/O errors). The details are
/// behind a box (the error stays one pointer wide on the `Ok` path) and read
/// through `Deref`: `e.line`, `e.kind`, `e.message`, ...
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct VexError(Box<VexErrorDetail>);

/// What a [`VexError`] says, field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct VexErrorDetail {
    /// The file name as given to the parser.
    pub file: String,
    /// 1-based line; 0 when there is none (I/O).
    pub line: usize,
    /// Block name without the `$`.
    pub block: Option<String>,
    /// Def (or scan, in `$SCHED`) name.
    pub def: Option<String>,
    /// Statement keyword (`chan_def`, `ref $FREQ`, ...).
    pub statement: Option<String>,
    pub kind: VexErrorKind,
    /// What is wrong.
    pub message: String,
}

impl std::ops::Deref for VexError {
    type Target = VexErrorDetail;
    fn deref(&self) -> &VexErrorDetail {
        &self.0
    }
}

impl VexError {
    pub(crate) fn new(
        file: &str,
        line: usize,
        kind: VexErrorKind,
        message: impl Into<String>,
    ) -> Self {
        VexError(Box::new(VexErrorDetail {
            file: file.to_string(),
            line,
            block: None,
            def: None,
            statement: None,
            kind,
            message: message.into(),
        }))
    }

    /// The same error placed in a block, def and statement.
    pub(crate) fn at(
        mut self,
        block: Option<String>,
        def: Option<String>,
        statement: Option<String>,
    ) -> Self {
        self.0.block = block;
        self.0.def = def;
        self.0.statement = statement;
        self
    }

    pub(crate) fn detail_mut(&mut self) -> &mut VexErrorDetail {
        &mut self.0
    }

    pub(crate) fn io(file: &str, err: &std::io::Error) -> Self {
        VexError::new(file, 0, VexErrorKind::Io, format!("cannot read: {err}"))
    }

    /// An error for a user of the model (the session layer) that finds the VEX
    /// lacks something it needs, located at the place that asked for it, e.g.
    /// `VexError::missing("em.vex", &scan.origin, Some("station"), "a $FREQ setup of mode X8 for station LS")`
    /// displays as `em.vex:88: $SCHED scan No0002: station: the VEX lacks a $FREQ setup of mode X8 for station LS`.
    pub fn missing(
        file: &str,
        at: &Origin,
        statement: Option<&str>,
        what: impl fmt::Display,
    ) -> Self {
        VexError::new(
            file,
            at.line,
            VexErrorKind::Missing,
            format!("the VEX lacks {what}"),
        )
        .at(
            (!at.block.is_empty()).then(|| at.block.clone()),
            at.def.clone(),
            statement.map(str::to_string),
        )
    }

    /// True when the file could not be read (exit code 3), false for bad
    /// content (exit code 2).
    pub fn is_io(&self) -> bool {
        self.kind == VexErrorKind::Io
    }

    fn render(&self) -> String {
        let mut s = self.file.clone();
        if self.line > 0 {
            s.push_str(&format!(":{}", self.line));
        }
        s.push_str(": ");
        if let Some(b) = &self.block {
            s.push('$');
            s.push_str(b);
            match &self.def {
                Some(d) if b == "SCHED" => s.push_str(&format!(" scan {d}")),
                Some(d) => s.push_str(&format!(" def {d}")),
                None => {}
            }
            s.push_str(": ");
        }
        if let Some(st) = &self.statement {
            s.push_str(st);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }
}

/// Where a typed value came from: the line of its statement (or def), the
/// block and def. Used to place errors the session layer reports later
/// ([`VexError::missing`]).
///
/// Two origins always compare **equal**: a location is metadata, not content,
/// so that a model compares equal to the same model read from another file
/// (`parse(write(v)) == v`). Compare `line` explicitly when it matters.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// 1-based line; 0 for a model built in code.
    pub line: usize,
    /// Block name without the `$` (empty for a model built in code).
    pub block: String,
    /// Def or scan name.
    pub def: Option<String>,
}

impl PartialEq for Origin {
    fn eq(&self, _: &Origin) -> bool {
        true
    }
}

impl Origin {
    pub(crate) fn new(line: usize, block: &str, def: Option<&str>) -> Self {
        Origin {
            line,
            block: block.to_string(),
            def: def.map(str::to_string),
        }
    }
}

/// Something the parser skipped or decided without failing: an unknown block,
/// an unknown statement, an external `ref`, a repeated statement of which the
/// first was used.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// 1-based line.
    pub line: usize,
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.text)
    }
}

//! HCL text from hcl-rs structures, laid out as `terraform fmt` lays it out.
//!
//! hcl-rs writes one space before every `=`; `terraform fmt` aligns the `=` of consecutive
//! single-line attributes. [`align`] applies that one rule, so the export passes
//! `terraform fmt -check` as written.

use butterfly_core::{Error, Result};
use hcl::{Block, Body};

/// Blocks, one blank line between them, aligned.
pub fn blocks(blocks: &[Block]) -> Result<String> {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let text = hcl::format::to_string(block)
            .map_err(|e| Error::invalid_data(format!("cannot format HCL: {e}")))?;
        out.push_str(&text);
    }
    Ok(align(&out))
}

/// A body, aligned.
pub fn body(body: &Body) -> Result<String> {
    let text = hcl::format::to_string(body)
        .map_err(|e| Error::invalid_data(format!("cannot format HCL: {e}")))?;
    Ok(align(&text))
}

/// Aligns the `=` of runs of consecutive lines that each hold a whole single-line
/// attribute, as `terraform fmt` does (hclwrite's `formatCells`): a line whose value opens a
/// bracket it does not close, a blank line or a block line ends a run.
///
/// ```
/// use butterfly_terraform::format::align;
/// let text = "a = 1\nlong_name = 2\nx = {\n  y = 3\n}\n";
/// assert_eq!(align(text), "a         = 1\nlong_name = 2\nx = {\n  y = 3\n}\n");
/// ```
pub fn align(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let cells: Vec<Option<usize>> = lines.iter().map(|l| assign_at(l)).collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        if cells[i].is_none() {
            out.push(lines[i].to_string());
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && cells[i].is_some() {
            i += 1;
        }
        let lead = |j: usize| lines[j][..cells[j].unwrap_or(0)].trim_end();
        let width = (start..i)
            .map(|j| lead(j).chars().count())
            .max()
            .unwrap_or(0);
        for j in start..i {
            let l = lead(j);
            let pad = width - l.chars().count() + 1;
            out.push(format!(
                "{l}{}{}",
                " ".repeat(pad),
                &lines[j][cells[j].unwrap_or(0)..]
            ));
        }
    }
    out.join("\n")
}

/// The byte offset of the line's assignment `=` when the rest of the line is a whole
/// expression (its brackets balance), outside string literals.
fn assign_at(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let mut eq = None;
    let mut depth: i64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'=' if eq.is_none() => {
                let prev = if i > 0 { bytes[i - 1] } else { b' ' };
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                if i == 0
                    || matches!(prev, b'!' | b'<' | b'>' | b'=')
                    || next == b'='
                    || next == b'>'
                {
                    return None;
                }
                eq = Some(i);
            }
            b'(' | b'[' | b'{' if eq.is_some() => depth += 1,
            b')' | b']' | b'}' if eq.is_some() => depth -= 1,
            b'(' | b'[' | b'{' | b')' | b']' | b'}' => return None,
            _ => {}
        }
    }
    eq.filter(|_| depth == 0)
}

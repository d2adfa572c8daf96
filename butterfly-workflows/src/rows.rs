//! Table rows as CSV text: what a table's rows export answers, stored verbatim (hashed like any
//! resource) with its columns and row count, and imported again after a restore.
//!
//! ```
//! let body = butterfly_workflows::rows::stored_body(b"User ID,Count\r\n00u1,3\r\n00u2,\"4,5\"\r\n").unwrap();
//! assert_eq!(body["rows"], 2);
//! assert_eq!(body["columns"], serde_json::json!(["User ID", "Count"]));
//! assert!(butterfly_workflows::rows::stored_body(b"a,b\r\n1,2,3\r\n").is_err());
//! ```

use butterfly_core::{Error, Result};
use serde_json::{Value, json};

/// The stored body of a table's rows: the CSV text verbatim (`csv`), the header's columns and
/// the row count. Text that is not UTF-8 CSV with a header row, or a row whose field count
/// differs from the header's, is an `InvalidData` error naming the line.
pub fn stored_body(bytes: &[u8]) -> Result<Value> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::invalid_data("table rows that are not UTF-8 CSV"))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid_data(format!("table rows: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = 0usize;
    for record in reader.records() {
        record.map_err(|e| Error::invalid_data(format!("table rows are not valid CSV: {e}")))?;
        rows += 1;
    }
    Ok(json!({"columns": columns, "rows": rows, "csv": text}))
}

/// The CSV text of a stored body, for the import.
pub fn csv_text(body: &Value) -> Result<String> {
    body.get("csv")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::invalid_data("stored table rows without their CSV text"))
}

/// CSV text of `columns` and `rows` (every field quoted as needed): how the fake org and tests
/// build the export.
pub fn to_csv(columns: &[String], rows: &[Vec<String>]) -> Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let io = |e: csv::Error| Error::invalid_data(format!("cannot write CSV: {e}"));
    writer.write_record(columns).map_err(io)?;
    for row in rows {
        writer.write_record(row).map_err(io)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::invalid_data(format!("cannot write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|_| Error::invalid_data("CSV that is not UTF-8"))
}

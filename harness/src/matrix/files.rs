//! A matrix's four files in its directory: `matrix.json`, `matrix.md`, `junit.xml` and
//! `matrix.html`. It owns where they go and writing them; their contents belong to `outcome`,
//! `junit` and `html`.

use std::io::Write as _;

use super::outcome::{MatrixOutcome, WriteError};

impl MatrixOutcome {
    /// Writes `matrix.json`, `matrix.md`, `junit.xml` and `matrix.html` into the matrix's
    /// directory.
    pub fn write_files(&self) -> Result<(), WriteError> {
        let write = |name: &str, body: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
            let path = self.dir.join(name);
            let mut bytes = Vec::new();
            body(&mut bytes)
                .and_then(|()| std::fs::write(&path, &bytes))
                .map_err(|source| WriteError { path, source })
        };
        write("matrix.json", &|out| {
            serde_json::to_writer_pretty(out, self).map_err(std::io::Error::from)
        })?;
        write("matrix.md", &|out| self.write_markdown(out))?;
        write("junit.xml", &|out| self.write_junit(out))?;
        write("matrix.html", &|out| {
            let page = super::html::render(self).map_err(std::io::Error::other)?;
            out.write_all(page.as_bytes())
        })
    }
}

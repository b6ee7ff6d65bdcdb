//! Reading LEB128 numbers and byte runs from untrusted bytes.

/// A cursor over bytes that never reads past their end.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// An unsigned LEB128 number; `None` if cut short or over 64 bits.
    pub(crate) fn uleb(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            let part = u64::from(byte & 0x7f);
            if shift == 63 && part > 1 {
                return None;
            }
            v |= part << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A signed LEB128 number; `None` if cut short or over 64 bits.
    pub(crate) fn sleb(&mut self) -> Option<i64> {
        let mut v: i64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            let part = byte & 0x7f;
            // The tenth byte holds only the sign bit, as 0 or all ones.
            if shift == 63 && part != 0 && part != 0x7f {
                return None;
            }
            v |= i64::from(part) << shift;
            if byte & 0x80 == 0 {
                if shift < 57 && byte & 0x40 != 0 {
                    v |= -1i64 << (shift + 7);
                }
                return Some(v);
            }
        }
        None
    }

    pub(crate) fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let n = usize::try_from(n).ok()?;
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }
}

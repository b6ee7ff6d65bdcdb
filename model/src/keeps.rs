//! Whether a record keeps all that was written of it, checked as the record
//! serializes, without building its JSON.
//!
//! A change leaves a record's root as JSON; the record read from it
//! ([`crate::records::Record::from_fields_ref`]) must keep every key and
//! value written there, in the form it writes them itself
//! (`record_doc::parse_written`). Written out, that is: the record's own
//! JSON (`serde_json::to_value`), then the two trees walked side by side.
//! Nearly every record passes, and for those [`all_of`] gives the same
//! answer while the record serializes into nothing but comparisons. It
//! answers `false` for anything it does not follow (bytes, numbers past 64
//! bits, a key written twice); the caller then walks the two trees, which
//! also names the field at fault.

use serde::ser::{self, Impossible, Serialize};
use serde_json::{Map, Number, Value};

/// Whether `written` holds only what `record`'s JSON holds: each key of an
/// object one the record writes there too, with a value it keeps; each list
/// as long as the record's, item by item; any other value equal to the
/// record's. `false` also where this cannot tell.
pub fn all_of<T: Serialize + ?Sized>(record: &T, written: &Value) -> bool {
    record.serialize(Within(written)).is_ok()
}

/// The record does not keep what was written (or this cannot tell).
#[derive(Debug)]
pub struct Differs;

impl std::fmt::Display for Differs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the record does not keep what was written")
    }
}

impl std::error::Error for Differs {}

impl ser::Error for Differs {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Differs
    }
}

type Kept = Result<(), Differs>;

fn equal(same: bool) -> Kept {
    if same { Ok(()) } else { Err(Differs) }
}

/// Compares the value being serialized with `self.0`, as written.
struct Within<'a>(&'a Value);

impl Within<'_> {
    fn number(self, n: Option<Number>) -> Kept {
        // serde_json writes a float it cannot hold as null.
        match n {
            Some(n) => equal(self.0.as_number() == Some(&n)),
            None => equal(self.0.is_null()),
        }
    }

    /// `{variant: value}`, as serde_json writes an enum's variant with data.
    fn variant<T: Serialize + ?Sized>(self, variant: &str, value: &T) -> Kept {
        let written = self.0.as_object().ok_or(Differs)?;
        for (k, v) in written {
            if k != variant {
                return Err(Differs);
            }
            value.serialize(Within(v))?;
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for Within<'a> {
    type Ok = ();
    type Error = Differs;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Impossible<(), Differs>;
    type SerializeMap = Fields<'a>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = Impossible<(), Differs>;

    fn serialize_bool(self, v: bool) -> Kept {
        equal(self.0.as_bool() == Some(v))
    }
    fn serialize_i8(self, v: i8) -> Kept {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Kept {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Kept {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Kept {
        self.number(Some(v.into()))
    }
    fn serialize_u8(self, v: u8) -> Kept {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Kept {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Kept {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Kept {
        self.number(Some(v.into()))
    }
    fn serialize_f32(self, v: f32) -> Kept {
        self.number(Number::from_f64(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Kept {
        self.number(Number::from_f64(v))
    }
    fn serialize_char(self, v: char) -> Kept {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Kept {
        equal(self.0.as_str() == Some(v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Kept {
        Err(Differs)
    }
    fn serialize_none(self) -> Kept {
        equal(self.0.is_null())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Kept {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Kept {
        equal(self.0.is_null())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Kept {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Kept {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Kept {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Kept {
        self.variant(variant, value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Items<'a>, Differs> {
        let items = self.0.as_array().ok_or(Differs)?;
        Ok(Items { items, next: 0 })
    }
    fn serialize_tuple(self, len: usize) -> Result<Items<'a>, Differs> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Items<'a>, Differs> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Differs> {
        Err(Differs)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Fields<'a>, Differs> {
        let written = self.0.as_object().ok_or(Differs)?;
        Ok(Fields {
            written,
            matched: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Fields<'a>, Differs> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Differs> {
        Err(Differs)
    }
}

/// A list being compared with a written one, item by item.
struct Items<'a> {
    items: &'a [Value],
    next: usize,
}

impl Items<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Kept {
        let written = self.items.get(self.next).ok_or(Differs)?;
        self.next += 1;
        value.serialize(Within(written))
    }

    fn end(self) -> Kept {
        equal(self.next == self.items.len())
    }
}

impl ser::SerializeSeq for Items<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Kept {
        self.item(value)
    }
    fn end(self) -> Kept {
        Items::end(self)
    }
}

impl ser::SerializeTuple for Items<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Kept {
        self.item(value)
    }
    fn end(self) -> Kept {
        Items::end(self)
    }
}

impl ser::SerializeTupleStruct for Items<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Kept {
        self.item(value)
    }
    fn end(self) -> Kept {
        Items::end(self)
    }
}

/// An object being compared with a written one: every key written must be
/// one the record writes, each once.
struct Fields<'a> {
    written: &'a Map<String, Value>,
    /// The written keys the record wrote too.
    matched: Vec<&'a str>,
    /// The key of the entry whose value comes next.
    key: Option<String>,
}

impl<'a> Fields<'a> {
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Kept {
        let Some((k, written)) = self.written.get_key_value(key) else {
            // A field the record writes and the change did not: kept.
            return Ok(());
        };
        if self.matched.contains(&k.as_str()) {
            // Written twice by the record: serde_json keeps the last.
            return Err(Differs);
        }
        self.matched.push(k.as_str());
        value.serialize(Within(written))
    }

    fn end(self) -> Kept {
        equal(self.matched.len() == self.written.len())
    }
}

impl ser::SerializeMap for Fields<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Kept {
        self.key = Some(key.serialize(Key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Kept {
        let key = self.key.take().ok_or(Differs)?;
        self.field(&key, value)
    }
    fn end(self) -> Kept {
        Fields::end(self)
    }
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = Differs;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Kept {
        self.field(key, value)
    }
    fn end(self) -> Kept {
        Fields::end(self)
    }
}

/// A map's key as serde_json writes it: a string, or a number or boolean
/// written as one.
struct Key;

impl ser::Serializer for Key {
    type Ok = String;
    type Error = Differs;
    type SerializeSeq = Impossible<String, Differs>;
    type SerializeTuple = Impossible<String, Differs>;
    type SerializeTupleStruct = Impossible<String, Differs>;
    type SerializeTupleVariant = Impossible<String, Differs>;
    type SerializeMap = Impossible<String, Differs>;
    type SerializeStruct = Impossible<String, Differs>;
    type SerializeStructVariant = Impossible<String, Differs>;

    fn serialize_str(self, v: &str) -> Result<String, Differs> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_bool(self, v: bool) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Differs> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Differs> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Differs> {
        value.serialize(self)
    }
    fn serialize_f32(self, _: f32) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_f64(self, _: f64) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_none(self) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_unit(self) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Differs> {
        Err(Differs)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Differs> {
        Err(Differs)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Differs> {
        Err(Differs)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Differs> {
        Err(Differs)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Differs> {
        Err(Differs)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Differs> {
        Err(Differs)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Differs> {
        Err(Differs)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Differs> {
        Err(Differs)
    }
}

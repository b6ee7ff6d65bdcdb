//! The field tables: what each field of a record holds, its labels and its
//! rules, as `#[derive(Kind)]` and `#[derive(Fields)]` declare them; and
//! [`FieldValue`], which gives each type a field can have its place in them
//! (its [`ValueType`], how its rules apply to it, the people and records it
//! names, and how an edit of it is judged).

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;

use super::kind::KindSpec;
use super::validation::{ValidationError, check};
use super::{RecordKind, Reference};
use crate::access::Principal;
use crate::catalog::CodeList;
use crate::ids::{DocId, PersonId};

/// One value of a field: what it is.
#[derive(Clone, Copy, Debug)]
pub enum Scalar {
    /// Text.
    Text,
    /// A whole number.
    Int,
    /// Yes or no.
    Bool,
    /// A day (`YYYY-MM-DD`).
    Date,
    /// A person's id.
    Person,
    /// A record's id.
    Record,
    /// A code of an enumeration.
    Code(&'static CodeList),
    /// A struct of fields of its own (a note, a demand, an attendance mark).
    Struct(&'static StructSpec),
}

/// How many values a field holds.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Exactly one.
    One,
    /// One or none.
    Optional,
    /// A list.
    List,
    /// A map whose keys are of this kind.
    Map(Scalar),
}

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub struct ValueType {
    /// One, optional, a list or a map.
    pub shape: Shape,
    /// Each value.
    pub value: Scalar,
}

impl ValueType {
    /// One value of this kind.
    pub const fn one(value: Scalar) -> ValueType {
        ValueType {
            shape: Shape::One,
            value,
        }
    }
}

/// Which days a date field accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dates {
    /// A day that has happened: from 2000 to tomorrow (phones' clocks drift).
    Past,
    /// A planned day (a deadline): from 2000 to 2100.
    Planned,
}

/// The rules of a field's values, checked on every record (each value of a
/// list, map or option in turn).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Text of at most this many characters.
    pub max_chars: Option<usize>,
    /// Text that must not be empty.
    pub required: bool,
    /// The days a date may be.
    pub dates: Option<Dates>,
    /// The least whole number.
    pub min: Option<i64>,
    /// The greatest whole number.
    pub max: Option<i64>,
    /// A list with no item twice.
    pub unique: bool,
    /// The fewest items of a list.
    pub min_items: usize,
    /// The most items of a list.
    pub max_items: Option<usize>,
}

impl Rules {
    /// No rule.
    pub const NONE: Rules = Rules {
        max_chars: None,
        required: false,
        dates: None,
        min: None,
        max: None,
        unique: false,
        min_items: 0,
        max_items: None,
    };
}

/// What a field names, which must be of the record's village.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A person.
    Person,
    /// A record of this kind (any kind if `None`).
    Record(Option<RecordKind>),
}

/// What a new record starts with on the command line when the option is not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewValue {
    /// Today.
    Today,
    /// The person using the device.
    Me,
    /// A fresh id (of a demand).
    Fresh,
    /// This code; for a map keyed by code, this key with today's date.
    Code(&'static str),
}

/// One field of a record kind or of a struct inside one, as declared.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// Its name, as stored.
    pub name: &'static str,
    /// 中文 label.
    pub zh: &'static str,
    /// English label.
    pub en: &'static str,
    /// What it holds, in a sentence (its doc comment).
    pub doc: &'static str,
    /// What it holds.
    pub ty: ValueType,
    /// It may be left out when a record is made (it has a default).
    pub optional: bool,
    /// The rules of its values.
    pub rules: Rules,
    /// It never changes once the record is made.
    pub evidence: bool,
    /// What it names.
    pub refs: Option<Target>,
    /// The command line's option for it, if not its name.
    pub cli: Option<&'static str>,
    /// What a new record starts with on the command line.
    pub new: Option<NewValue>,
    /// Its place in the one-line listing of records, if it is shown there.
    pub line: Option<u8>,
}

impl FieldSpec {
    /// The label in a language.
    pub fn label(&self, lang: crate::codes::Lang) -> &'static str {
        match lang {
            crate::codes::Lang::Zh => self.zh,
            crate::codes::Lang::En => self.en,
        }
    }

    /// The command line's option for the field (without `--`).
    pub fn option(&self) -> String {
        self.cli
            .map_or_else(|| self.name.replace('_', "-"), str::to_string)
    }
}

/// The fields of a struct inside a record.
#[derive(Clone, Copy, Debug)]
pub struct StructSpec {
    /// The struct's name (`Note`, `Attendance`, …).
    pub name: &'static str,
    /// Its fields.
    pub fields: &'static [FieldSpec],
}

/// Where a value is in a record, as a path (`progress[2].date`,
/// `attendance.wang.reason`); written out only for an error.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// A field of the record.
    Field(&'a str),
    /// An item of a list.
    Index(&'a At<'a>, usize),
    /// A value of a map, by its key.
    Key(&'a At<'a>, &'a dyn fmt::Display),
    /// A field of a struct.
    Sub(&'a At<'a>, &'a str),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Field(name) => f.write_str(name),
            At::Index(at, i) => write!(f, "{at}[{i}]"),
            At::Key(at, key) => write!(f, "{at}.{key}"),
            At::Sub(at, name) => write!(f, "{at}.{name}"),
        }
    }
}

impl fmt::Debug for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "At({self})")
    }
}

/// A type a field can have: its place in the field tables, and how the
/// declared rules, references and edit rules apply to its values.
pub trait FieldValue {
    /// What the field holds.
    const TYPE: ValueType;

    /// The declared rules applied to the value at `at` (a struct checks its
    /// own fields instead).
    fn validate(&self, _at: &At<'_>, _rules: &Rules) -> Result<(), ValidationError> {
        Ok(())
    }

    /// The people and records the value names, if the field names them
    /// (`target`); a struct adds those its own fields name.
    fn references(
        &self,
        _at: &At<'_>,
        _target: Option<Target>,
        _out: &mut Vec<(String, Reference)>,
    ) {
    }

    /// Whether the author of an edit may leave the value at `at` as `made`
    /// after seeing it as `seen` (`None`: the record is new).
    fn check_edit(
        _seen: Option<&Self>,
        _made: &Self,
        _at: &At<'_>,
        _by: &Principal,
    ) -> Result<(), ValidationError> {
        Ok(())
    }

    /// As [`FieldValue::check_edit`], for a list of such values (notes keep
    /// their authors).
    fn check_list_edit(
        _seen: Option<&[Self]>,
        _made: &[Self],
        _at: &At<'_>,
        _by: &Principal,
    ) -> Result<(), ValidationError>
    where
        Self: Sized,
    {
        Ok(())
    }
}

impl FieldValue for String {
    const TYPE: ValueType = ValueType::one(Scalar::Text);

    fn validate(&self, at: &At<'_>, rules: &Rules) -> Result<(), ValidationError> {
        if rules.required && self.trim().is_empty() {
            return Err(ValidationError::new(at.to_string(), "must not be empty"));
        }
        match rules.max_chars {
            Some(max) => check::text(at, self, max),
            None => Ok(()),
        }
    }
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            const TYPE: ValueType = ValueType::one(Scalar::Int);

            fn validate(&self, at: &At<'_>, rules: &Rules) -> Result<(), ValidationError> {
                if rules.min.is_none() && rules.max.is_none() {
                    return Ok(());
                }
                check::range(
                    at,
                    i64::from(*self),
                    rules.min.unwrap_or(i64::MIN),
                    rules.max.unwrap_or(i64::MAX),
                )
            }
        }
    )*};
}
int_field!(u16, u32);

impl FieldValue for bool {
    const TYPE: ValueType = ValueType::one(Scalar::Bool);
}

impl FieldValue for NaiveDate {
    const TYPE: ValueType = ValueType::one(Scalar::Date);

    fn validate(&self, at: &At<'_>, rules: &Rules) -> Result<(), ValidationError> {
        match rules.dates {
            Some(Dates::Past) => check::date(at, *self),
            Some(Dates::Planned) => check::planned_date(at, *self),
            None => Ok(()),
        }
    }
}

impl FieldValue for PersonId {
    const TYPE: ValueType = ValueType::one(Scalar::Person);

    fn references(&self, at: &At<'_>, target: Option<Target>, out: &mut Vec<(String, Reference)>) {
        if target.is_some() {
            out.push((at.to_string(), Reference::Person(self.clone())));
        }
    }
}

impl FieldValue for DocId {
    const TYPE: ValueType = ValueType::one(Scalar::Record);

    fn references(&self, at: &At<'_>, target: Option<Target>, out: &mut Vec<(String, Reference)>) {
        if let Some(Target::Record(kind)) = target {
            out.push((at.to_string(), Reference::Record(*self, kind)));
        }
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    const TYPE: ValueType = ValueType {
        shape: Shape::Optional,
        value: T::TYPE.value,
    };

    fn validate(&self, at: &At<'_>, rules: &Rules) -> Result<(), ValidationError> {
        self.as_ref().map_or(Ok(()), |v| v.validate(at, rules))
    }

    fn references(&self, at: &At<'_>, target: Option<Target>, out: &mut Vec<(String, Reference)>) {
        if let Some(v) = self {
            v.references(at, target, out);
        }
    }

    fn check_edit(
        seen: Option<&Self>,
        made: &Self,
        at: &At<'_>,
        by: &Principal,
    ) -> Result<(), ValidationError> {
        match made {
            Some(m) => T::check_edit(seen.and_then(Option::as_ref), m, at, by),
            None => Ok(()),
        }
    }
}

impl<T: FieldValue> FieldValue for Vec<T> {
    const TYPE: ValueType = ValueType {
        shape: Shape::List,
        value: T::TYPE.value,
    };

    fn validate(&self, at: &At<'_>, rules: &Rules) -> Result<(), ValidationError> {
        for (i, v) in self.iter().enumerate() {
            v.validate(&At::Index(at, i), rules)?;
        }
        Ok(())
    }

    fn references(&self, at: &At<'_>, target: Option<Target>, out: &mut Vec<(String, Reference)>) {
        for (i, v) in self.iter().enumerate() {
            v.references(&At::Index(at, i), target, out);
        }
    }

    fn check_edit(
        seen: Option<&Self>,
        made: &Self,
        at: &At<'_>,
        by: &Principal,
    ) -> Result<(), ValidationError> {
        T::check_list_edit(seen.map(Vec::as_slice), made, at, by)
    }
}

impl<K, V> FieldValue for BTreeMap<K, V>
where
    K: FieldValue + fmt::Display,
    V: FieldValue,
{
    const TYPE: ValueType = ValueType {
        shape: Shape::Map(K::TYPE.value),
        value: V::TYPE.value,
    };

    fn validate(&self, at: &At<'_>, rules: &Rules) -> Result<(), ValidationError> {
        for (k, v) in self {
            v.validate(&At::Key(at, k), rules)?;
        }
        Ok(())
    }

    /// A map names what its keys name (people, by whom attendance and grades
    /// are kept), and what its values' own fields name.
    fn references(&self, at: &At<'_>, target: Option<Target>, out: &mut Vec<(String, Reference)>) {
        for (k, v) in self {
            let here = At::Key(at, k);
            k.references(&here, target, out);
            v.references(&here, None, out);
        }
    }
}

/// The refusal of an edit that changed an evidence field of a record.
pub fn evidence_changed(kind: &KindSpec, field: &FieldSpec) -> ValidationError {
    let evidence: Vec<&str> = kind
        .fields
        .iter()
        .filter(|f| f.evidence)
        .map(|f| f.en)
        .collect();
    ValidationError::new(
        field.name,
        format!(
            "a {} is kept as it was first recorded: {} never change once it is made",
            kind.en.to_lowercase(),
            evidence.join(", ").to_lowercase()
        ),
    )
}

/// The field `name` among `fields`, looked for in the structs inside them too.
pub fn find(fields: &'static [FieldSpec], name: &str) -> Option<&'static FieldSpec> {
    fields.iter().find(|f| f.name == name).or_else(|| {
        fields.iter().find_map(|f| match f.ty.value {
            Scalar::Struct(s) => find(s.fields, name),
            _ => None,
        })
    })
}

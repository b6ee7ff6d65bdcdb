//! The options of each record kind, made from its field table, and how they
//! become a record.
//!
//! Each kind has one set of options, used by `add` (fields not given start
//! as the kind declares, or are refused as missing) and by `update` (only
//! the options given change). An option is named after its field (or as the
//! field declares), takes what the field's type takes, and says so in its
//! help; a refused record names the field at fault. What a field holds
//! decides its form:
//!
//! - one value: `--topic TEXT`, `--minutes 45`, `--date 2024-05-01`, a code
//!   (`--mode self_study`), a person (`--member wang`), a record by the start
//!   of its id (`--problem 3fa2`); a flag takes `--mobile` or `--mobile false`;
//! - a list of values: the option repeated; the values given replace the list;
//! - a struct (a helper, a filing): an option for each of its fields that a
//!   new one does not fill in itself (the day, the person using the device);
//! - a list of structs (notes, demands, points): each option adds one, its
//!   fields joined by `=` (`--point wang=self_criticism=…`), notes in your
//!   name, dated today;
//! - attendance: `--present PERSON`, `--absent PERSON=REASON`;
//! - a map from a code to a day (a measure's steps): `--status done`, on the
//!   day `--status-on` (default today); a step once reached keeps its day;
//! - a map from a person to a value (appraisal): `--grade PERSON=GRADE`.

use anyhow::Context;
use chrono::NaiveDate;
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches};
use massline_core::catalog::CodeList;
use massline_core::records::field::{FieldSpec, NewValue, Scalar, Shape};
use massline_core::records::{Demand, Record, RecordKind};
use massline_core::{Client, Lang, PersonId};
use serde_json::{Map, Value, json};

/// What building a record needs besides the options.
pub struct Cx<'a> {
    /// The device's core, to resolve record ids from their first characters.
    pub client: &'a Client,
    /// The person using the device.
    pub me: PersonId,
    /// Today.
    pub today: NaiveDate,
}

/// What a value of one field takes on the command line.
fn value_name(s: Scalar) -> &'static str {
    match s {
        Scalar::Text => "TEXT",
        Scalar::Int => "NUMBER",
        Scalar::Bool => "BOOL",
        Scalar::Date => "YYYY-MM-DD",
        Scalar::Person => "PERSON",
        Scalar::Record => "ID",
        Scalar::Code(_) => "CODE",
        Scalar::Struct(_) => "VALUE",
    }
}

fn codes(list: &CodeList) -> PossibleValuesParser {
    PossibleValuesParser::new(
        list.values
            .iter()
            .map(|v| PossibleValue::new(v.code).help(format!("{} / {}", v.zh, v.en))),
    )
}

fn date(s: &str) -> Result<NaiveDate, String> {
    s.parse()
        .map_err(|e| format!("`{s}` is not a day (YYYY-MM-DD): {e}"))
}

/// An option taking one value of `scalar`.
fn option(id: String, long: String, scalar: Scalar, help: String) -> Arg {
    let arg = Arg::new(id)
        .long(long)
        .value_name(value_name(scalar))
        .help(help);
    match scalar {
        Scalar::Int => arg.value_parser(clap::value_parser!(i64)),
        Scalar::Date => arg.value_parser(date),
        Scalar::Code(list) => arg.value_parser(codes(list)),
        Scalar::Bool => arg
            .value_parser(clap::value_parser!(bool))
            .num_args(0..=1)
            .default_missing_value("true"),
        _ => arg,
    }
}

/// A field's help: its English and Chinese labels, what it is, what a new
/// record starts with.
fn help(f: &FieldSpec, how: &str) -> String {
    let mut out = format!("{} ({}): {}", f.en, f.zh, f.doc);
    if !how.is_empty() {
        out.push_str(&format!(" ({how})"));
    }
    match f.new {
        Some(NewValue::Today) => out.push_str(" [new: today]"),
        Some(NewValue::Me) => out.push_str(" [new: yourself]"),
        Some(NewValue::Code(c)) => out.push_str(&format!(" [new: {c}]")),
        Some(NewValue::Fresh) | None => {}
    }
    out
}

/// The fields of a struct that the command line asks for: those a new one
/// does not fill in itself, and not the optional ones (links made elsewhere).
fn asked(fields: &'static [FieldSpec]) -> impl Iterator<Item = &'static FieldSpec> {
    fields.iter().filter(|s| s.new.is_none() && !s.optional)
}

/// The options of a kind's fields.
pub fn args(kind: RecordKind) -> Vec<Arg> {
    let mut out = Vec::new();
    for f in kind.spec().fields {
        let name = f.option();
        match (f.ty.shape, f.ty.value) {
            (Shape::Map(Scalar::Person), Scalar::Struct(s)) if s.name == "Attendance" => {
                out.push(
                    Arg::new(format!("{}.present", f.name))
                        .long("present")
                        .value_name("PERSON")
                        .action(ArgAction::Append)
                        .help(help(f, "a person present; repeat for each")),
                );
                out.push(
                    Arg::new(format!("{}.absent", f.name))
                        .long("absent")
                        .value_name("PERSON=REASON")
                        .action(ArgAction::Append)
                        .help(help(f, "a person absent, with the reason; repeat for each")),
                );
            }
            (Shape::Map(Scalar::Code(list)), Scalar::Date) => {
                out.push(
                    Arg::new(f.name)
                        .long(name.clone())
                        .value_name("CODE")
                        .value_parser(codes(list))
                        .help(help(
                            f,
                            "move it on to this step; a step reached is never taken back",
                        )),
                );
                out.push(
                    Arg::new(format!("{}.on", f.name))
                        .long(format!("{name}-on"))
                        .value_name("YYYY-MM-DD")
                        .value_parser(date)
                        .requires(f.name)
                        .help(format!(
                            "The day the step was reached (default today): {}",
                            f.en
                        )),
                );
            }
            (Shape::Map(_), value) => out.push(
                Arg::new(f.name)
                    .long(name)
                    .value_name(format!("PERSON={}", value_name(value)))
                    .action(ArgAction::Append)
                    .help(help(f, "repeat; each is set")),
            ),
            (Shape::List, Scalar::Struct(s)) => {
                let parts: Vec<String> = asked(s.fields).map(|x| x.name.to_uppercase()).collect();
                out.push(
                    Arg::new(f.name)
                        .long(name)
                        .value_name(parts.join("="))
                        .action(ArgAction::Append)
                        .help(help(f, "repeat; each is added")),
                );
            }
            (Shape::One | Shape::Optional, Scalar::Struct(s)) => {
                let ids: Vec<String> = asked(s.fields)
                    .map(|x| format!("{}.{}", f.name, x.name))
                    .collect();
                for x in asked(s.fields) {
                    let long = x.cli.map_or_else(
                        || format!("{name}-{}", x.name.replace('_', "-")),
                        str::to_string,
                    );
                    let id = format!("{}.{}", f.name, x.name);
                    let others: Vec<&String> = ids.iter().filter(|o| **o != id).collect();
                    out.push(
                        option(id.clone(), long, x.ty.value, help(x, f.en)).requires_all(others),
                    );
                }
            }
            (Shape::List, scalar) => out.push(
                option(
                    f.name.to_string(),
                    name,
                    scalar,
                    help(f, "repeat; replaces the list"),
                )
                .action(ArgAction::Append),
            ),
            (Shape::One | Shape::Optional, scalar) => {
                out.push(option(f.name.to_string(), name, scalar, help(f, "")));
            }
        }
    }
    out
}

/// The fields a new record of `kind` starts with.
pub fn defaults(kind: RecordKind, cx: &Cx<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    for f in kind.spec().fields {
        let Some(new) = f.new else { continue };
        let v = match (new, f.ty.shape) {
            (NewValue::Code(c), Shape::Map(_)) => json!({ c: cx.today }),
            (new, _) => new_value(new, cx),
        };
        m.insert(f.name.to_string(), v);
    }
    m
}

fn new_value(new: NewValue, cx: &Cx<'_>) -> Value {
    match new {
        NewValue::Today => json!(cx.today),
        NewValue::Me => json!(cx.me),
        NewValue::Fresh => json!(Demand::new(String::new()).id),
        NewValue::Code(c) => json!(c),
    }
}

/// A value given for a field of type `scalar`, as the record holds it.
fn scalar_value(scalar: Scalar, given: &str, cx: &Cx<'_>) -> anyhow::Result<Value> {
    Ok(match scalar {
        Scalar::Int => json!(given.parse::<i64>()?),
        Scalar::Bool => json!(given.parse::<bool>()?),
        Scalar::Record => json!(cx.client.resolve(given)?.to_hex()),
        _ => json!(given),
    })
}

/// The values given for an option, as text.
fn given(m: &ArgMatches, id: &str) -> Vec<String> {
    match m.try_get_raw(id) {
        Ok(Some(values)) => values.map(|v| v.to_string_lossy().into_owned()).collect(),
        _ => Vec::new(),
    }
}

/// `person=text` into its two halves.
fn pair(s: &str) -> anyhow::Result<(&str, &str)> {
    s.split_once('=')
        .with_context(|| format!("`{s}` is not PERSON=VALUE"))
}

/// A map or list field of `m` (made if absent or of another form).
fn slot<'a>(m: &'a mut Map<String, Value>, key: &str, empty: Value) -> &'a mut Value {
    let slot = m.entry(key.to_string()).or_insert_with(|| empty.clone());
    if std::mem::discriminant(slot) != std::mem::discriminant(&empty) {
        *slot = empty;
    }
    slot
}

fn object<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    match slot(m, key, Value::Object(Map::new())) {
        Value::Object(o) => o,
        _ => unreachable!("made an object just above"),
    }
}

fn list<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    match slot(m, key, Value::Array(Vec::new())) {
        Value::Array(a) => a,
        _ => unreachable!("made an array just above"),
    }
}

/// A struct of `fields` from the parts given (the last takes the rest), the
/// fields a new one fills in itself filled in.
fn item(
    fields: &'static [FieldSpec],
    text: &str,
    cx: &Cx<'_>,
) -> anyhow::Result<Map<String, Value>> {
    let asked: Vec<&FieldSpec> = asked(fields).collect();
    let mut parts = text.splitn(asked.len().max(1), '=');
    let mut out = Map::new();
    for f in fields {
        if let Some(new) = f.new {
            out.insert(f.name.to_string(), new_value(new, cx));
        } else if !f.optional {
            let names: Vec<String> = asked.iter().map(|x| x.name.to_uppercase()).collect();
            let part = parts
                .next()
                .with_context(|| format!("`{text}` is not {}", names.join("=")))?;
            out.insert(f.name.to_string(), scalar_value(f.ty.value, part, cx)?);
        }
    }
    Ok(out)
}

/// The record `base` (a record's fields) with the options given applied.
pub fn build(
    kind: RecordKind,
    m: &ArgMatches,
    base: Map<String, Value>,
    cx: &Cx<'_>,
) -> anyhow::Result<Record> {
    let mut r = base;
    for f in kind.spec().fields {
        let key = f.name;
        match (f.ty.shape, f.ty.value) {
            (Shape::Map(Scalar::Person), Scalar::Struct(s)) if s.name == "Attendance" => {
                for p in given(m, &format!("{key}.present")) {
                    object(&mut r, key).insert(p, json!({"present": true, "reason": ""}));
                }
                for a in given(m, &format!("{key}.absent")) {
                    let (p, reason) = pair(&a)?;
                    object(&mut r, key)
                        .insert(p.to_string(), json!({"present": false, "reason": reason}));
                }
            }
            (Shape::Map(Scalar::Code(_)), Scalar::Date) => {
                if let Some(step) = given(m, key).pop() {
                    let on = given(m, &format!("{key}.on")).pop();
                    let on = on.map_or_else(|| json!(cx.today), |d| json!(d));
                    object(&mut r, key).entry(step).or_insert(on);
                }
            }
            (Shape::Map(_), value) => {
                for g in given(m, key) {
                    let (p, v) = pair(&g)?;
                    let v = scalar_value(value, v, cx)?;
                    object(&mut r, key).insert(p.to_string(), v);
                }
            }
            (Shape::List, Scalar::Struct(s)) => {
                for g in given(m, key) {
                    let item = item(s.fields, &g, cx)?;
                    list(&mut r, key).push(Value::Object(item));
                }
            }
            (Shape::One | Shape::Optional, Scalar::Struct(s)) => {
                let mut sub = Map::new();
                for x in s.fields {
                    if let Some(v) = given(m, &format!("{key}.{}", x.name)).pop() {
                        sub.insert(x.name.to_string(), scalar_value(x.ty.value, &v, cx)?);
                    }
                }
                if !sub.is_empty() {
                    for x in s.fields {
                        if let Some(new) = x.new {
                            sub.insert(x.name.to_string(), new_value(new, cx));
                        }
                    }
                    r.insert(key.to_string(), Value::Object(sub));
                }
            }
            (Shape::List, scalar) => {
                let values = given(m, key);
                if !values.is_empty() {
                    let values = values
                        .iter()
                        .map(|v| scalar_value(scalar, v, cx))
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    r.insert(key.to_string(), Value::Array(values));
                }
            }
            (Shape::One | Shape::Optional, scalar) => {
                if let Some(v) = given(m, key).pop() {
                    r.insert(key.to_string(), scalar_value(scalar, &v, cx)?);
                }
            }
        }
    }
    Ok(Record::from_fields(kind, Value::Object(r))?)
}

/// The kind whose command is `name`.
pub fn kind_of_command(name: &str) -> Option<RecordKind> {
    use massline_core::Coded;
    RecordKind::all()
        .iter()
        .copied()
        .find(|k| k.spec().command == name)
}

/// A kind's name on the command line's help: 中文 and English.
pub fn kind_label(kind: RecordKind) -> String {
    format!("{} ({})", kind.label(Lang::En), kind.label(Lang::Zh))
}

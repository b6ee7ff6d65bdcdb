//! What a record kind is: its declaration ([`Kind`], derived from the kind's
//! struct) and its own rules, written as ordinary Rust in the kind's file
//! ([`KindRules`], whose defaults say "nothing more").

use super::field::{FieldSpec, find};
use super::row::{Cell, Row, RowOf, Table};
use super::rules::Context;
use super::validation::ValidationError;
use super::{Audience, Record, RecordKind, Reference, StudyCredit};
use crate::access::Principal;
use crate::ids::DocId;
use crate::record_doc::StoredRecord;

/// A record kind's declaration.
#[derive(Clone, Copy, Debug)]
pub struct KindSpec {
    /// The kind.
    pub kind: RecordKind,
    /// Its stable code.
    pub code: &'static str,
    /// 中文 name.
    pub zh: &'static str,
    /// English name.
    pub en: &'static str,
    /// What a record of the kind is, in a sentence.
    pub doc: &'static str,
    /// Whose scope its records live in.
    pub audience: Audience,
    /// The command line's command for it.
    pub command: &'static str,
    /// Its fields, in order.
    pub fields: &'static [FieldSpec],
    /// Its typed row's table on the server.
    pub table: Table,
}

impl KindSpec {
    /// The field `name`, looked for in the structs inside the record too.
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        find(self.fields, name)
    }
}

/// Who may withdraw a record of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Withdrawers {
    /// Its author, a village cadre or the secretary; the township office its own.
    AuthorOrCadre,
    /// Only the township office: the record is evidence the village keeps.
    TownshipOnly,
}

/// A record kind: what `#[derive(Kind)]` writes from the declaration.
pub trait Kind: KindRules + Sized {
    /// The declaration.
    const SPEC: KindSpec;
    /// The declared rules of every field.
    fn validate_fields(&self) -> Result<(), ValidationError>;
    /// The people and records the record names, each with the field naming it.
    fn references(&self, out: &mut Vec<(String, Reference)>);
    /// The declared rules of an edit: evidence fields unchanged, notes kept
    /// by their authors.
    fn check_fields_edit(
        seen: Option<&Self>,
        made: &Self,
        by: &Principal,
    ) -> Result<(), ValidationError>;
    /// The values of the declared columns of the typed row, between the
    /// record's id and village and its withdrawal.
    fn cells<'a>(&'a self, out: &mut Vec<Cell<'a>>);

    /// Every rule of a record of the kind: the declared ones, then the kind's own.
    fn validate(&self) -> Result<(), ValidationError> {
        self.validate_fields()?;
        self.check()
    }

    /// The typed rows of the record: its row in its kind's table, then those
    /// of the kind's other tables.
    fn rows<'a>(&'a self, of: &RowOf<'a>) -> Vec<Row<'a>> {
        let mut cells = Vec::with_capacity(Self::SPEC.table.columns.len());
        cells.push(of.doc_id());
        cells.push(of.village());
        self.cells(&mut cells);
        cells.push(of.withdrawn());
        let mut rows = vec![Row {
            table: &Self::SPEC.table,
            cells,
        }];
        self.other_rows(of, &mut rows);
        rows
    }
}

/// What a record kind has beyond what its fields declare: ordinary Rust in
/// the kind's file. Every method has a default, so a kind with nothing more
/// to say writes `impl KindRules for X {}`.
pub trait KindRules {
    /// The kind's own rules of a record, beyond each field's (rules between
    /// fields), checked after the declared ones.
    fn check(&self) -> Result<(), ValidationError> {
        Ok(())
    }

    /// The kind's own rules of an edit by `by`: the record as they saw it
    /// (`None`: new) and as they left it.
    fn check_edit(
        _seen: Option<&Self>,
        _made: &Self,
        _by: &Principal,
    ) -> Result<(), ValidationError> {
        Ok(())
    }

    /// Whether the township office may make this record in a village (it
    /// issues problems; a village makes its other records).
    fn township_makes(&self) -> bool {
        false
    }

    /// Whether the township office may change `seen` into `made` in a record
    /// it did not make (it acknowledges filings).
    fn township_changes(_seen: &Self, _made: &Self) -> bool {
        false
    }

    /// Who may withdraw a record of the kind.
    const WITHDRAWN_BY: Withdrawers = Withdrawers::AuthorOrCadre;

    /// Whether a township officer may purge a record of the kind for good
    /// (its content erased on the server and every phone, on a villager's
    /// request): kinds that hold a villager's personal data. Every other
    /// kind is the organization's own evidence, withdrawn but never erased.
    const PURGEABLE: bool = false;

    /// Whether the township office also issues records of the kind to every
    /// village, in its own scope (a notice to all villages), besides the
    /// villages' own records of it in their scopes.
    const TOWNSHIP_ISSUES: bool = false;

    /// The kind's own rules of another record it newly names (`named`, found
    /// in the village, not withdrawn), judged on `authors_copy` or not.
    fn check_named(
        &self,
        _id: &DocId,
        _field: &str,
        _named_id: &DocId,
        _named: &StoredRecord,
        _authors_copy: bool,
    ) -> Result<(), ValidationError> {
        Ok(())
    }

    /// The kind's own rules about the records that name this one (`id`),
    /// of an edit from `seen` (`None`: new) to `made`, looked up through
    /// `ctx`. Judged on the author's copy only: other phones change those
    /// records meanwhile, and only the author's copy shows what they saw.
    fn check_named_by(
        _seen: Option<&Self>,
        _made: &Self,
        _id: &DocId,
        _ctx: &dyn Context,
    ) -> Result<(), ValidationError> {
        Ok(())
    }

    /// The study the record credits to people.
    fn study_credits(&self) -> Vec<StudyCredit> {
        Vec::new()
    }

    /// The tables besides the kind's own that hold rows of its records.
    const OTHER_TABLES: &'static [&'static Table] = &[];

    /// The record's rows in [`KindRules::OTHER_TABLES`].
    fn other_rows<'a>(&'a self, _of: &RowOf<'a>, _rows: &mut Vec<Row<'a>>) {}
}

/// A kind that can be found in a [`Record`] (made by `kinds!`).
pub trait KindOf: Kind {
    /// The record as this kind, if it is one.
    fn of(record: &Record) -> Option<&Self>;
}

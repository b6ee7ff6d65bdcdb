//! `#[derive(Kind)]` and `#[derive(Fields)]`: a record kind, or a struct
//! inside one, declared once as a struct whose fields carry their labels and
//! rules, and the code the rest of massline needs derived from it (the field
//! table, field rules, the people and records a record names, who may change
//! what, and the typed row).
//!
//! Only `massline-model` uses these: the code they write names the model's
//! items by `crate::` paths.
//!
//! On the struct:
//! - `#[kind(code = "problem", zh = "问题", en = "Problem", audience = shared,
//!   command = "problem", table = "problems", index = "village, month")]` for
//!   a record kind (`index`: the columns of the table's index);
//! - `#[fields(check = path, list_edit = path)]` (both optional) for a struct
//!   inside a record: `check` (`fn(&Self, &At) -> Result<(), ValidationError>`)
//!   runs after its fields' rules; `list_edit` judges an edit of a list of them
//!   (`fn(Option<&[Self]>, &[Self], &At, &Principal) -> Result<…>`).
//!
//! On each field, `#[field(…)]`:
//! - `zh = "…"`, `en = "…"`: its labels (required);
//! - rules: `text = N` (at most N characters), `required` (text not empty),
//!   `date` (a day that has happened) or `date = planned` (up to 2100),
//!   `min = EXPR`, `max = EXPR` (whole numbers), applied to each value of a
//!   list, map or option; `unique`, `min_items = N`, `max_items = N` (lists);
//! - `evidence`: never changes once the record is made;
//! - `refs` (people) or `refs = Kind` / `refs = any` (records): what the field
//!   names, which must be of the record's village;
//! - `cli = "name"`: the command line's option for it; `new = today | me |
//!   fresh | "code"`: what a new record starts with on the command line;
//! - `line = N`: shown, N-th, in the one-line listing of records;
//! - typed-row columns, in field order: `column` or `column = "name"` (the
//!   field's value), `month` (the month of a date), `count` or
//!   `count = "name"` (a list's length), `columns(name: int|text|blob = EXPR,
//!   …)` (values computed from `self`; `text?` etc. for a column that may be
//!   null).
//!
//! A field that may be left out (an `Option`, or `#[serde(default)]`) must
//! also have a default for the Kotlin API
//! (`#[cfg_attr(feature = "uniffi", uniffi(default))]`): the derive refuses
//! one that has not, so a new optional field never becomes a required
//! argument in Kotlin.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Data, DeriveInput, Expr, Fields as SynFields, Ident, LitInt, LitStr, Token, Type,
    parenthesized,
};

/// Derives a record kind from its declaration: see the crate's docs.
#[proc_macro_derive(Kind, attributes(kind, field))]
pub fn derive_kind(input: TokenStream) -> TokenStream {
    expand(input, true)
}

/// Derives a struct inside a record (a note, a demand, an attendance mark)
/// from its declaration: see the crate's docs.
#[proc_macro_derive(Fields, attributes(fields, field))]
pub fn derive_fields(input: TokenStream) -> TokenStream {
    expand(input, false)
}

fn expand(input: TokenStream, kind: bool) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    let out = if kind {
        expand_kind(&input)
    } else {
        expand_fields(&input)
    };
    out.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The first paragraph of an item's doc comment, on one line.
fn doc(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &a.meta
            && let Expr::Lit(l) = &nv.value
            && let syn::Lit::Str(s) = &l.lit
        {
            let line = s.value().trim().to_string();
            if line.is_empty() && !lines.is_empty() {
                break;
            }
            if !line.is_empty() {
                lines.push(line);
            }
        }
    }
    lines.join(" ")
}

/// A column computed from the record: `name: text? = EXPR`.
struct Computed {
    name: Ident,
    sql: Ident,
    nullable: bool,
    expr: Expr,
}

impl Parse for Computed {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let sql: Ident = input.parse()?;
        if !matches!(sql.to_string().as_str(), "int" | "text" | "blob") {
            return Err(syn::Error::new(sql.span(), "expected int, text or blob"));
        }
        let nullable = input.parse::<Option<Token![?]>>()?.is_some();
        input.parse::<Token![=]>()?;
        Ok(Computed {
            name,
            sql,
            nullable,
            expr: input.parse()?,
        })
    }
}

/// What a field names: people, or records of one kind or of any.
enum Refs {
    Person,
    Record(Option<Ident>),
}

/// A field's declaration, as read from its attributes.
struct Field {
    ident: Ident,
    ty: Type,
    doc: String,
    zh: Option<LitStr>,
    en: Option<LitStr>,
    optional: bool,
    text: Option<Expr>,
    required: bool,
    date: Option<Ident>,
    min: Option<Expr>,
    max: Option<Expr>,
    unique: bool,
    min_items: Option<Expr>,
    max_items: Option<Expr>,
    evidence: bool,
    refs: Option<Refs>,
    cli: Option<LitStr>,
    new: Option<Tokens>,
    line: Option<LitInt>,
    column: Option<Option<LitStr>>,
    month: bool,
    count: Option<Option<LitStr>>,
    computed: Vec<Computed>,
}

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// Whether `#[serde(…)]` gives the field a default.
fn serde_default(attrs: &[Attribute]) -> syn::Result<bool> {
    let mut found = false;
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        a.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                found = true;
            }
            if meta.input.peek(Token![=]) {
                let _: Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(found)
}

/// Whether the field has a default for the Kotlin API. (Attributes under
/// `cfg_attr` reach a derive only when their condition holds, so this can be
/// told only in a build with the `uniffi` feature.)
fn uniffi_default(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("uniffi") && a.to_token_stream().to_string().contains("default"))
}

/// Whether the struct is built for the Kotlin API (the `uniffi` feature is on).
fn for_kotlin(input: &DeriveInput) -> bool {
    let mentions = |attrs: &[Attribute]| {
        attrs
            .iter()
            .any(|a| a.to_token_stream().to_string().contains("uniffi"))
    };
    mentions(&input.attrs)
        || matches!(&input.data, Data::Struct(s) if s.fields.iter().any(|f| mentions(&f.attrs)))
}

fn read_field(f: &syn::Field, kotlin: bool) -> syn::Result<Field> {
    let ident = f
        .ident
        .clone()
        .ok_or_else(|| syn::Error::new(Span::call_site(), "fields must be named"))?;
    let optional = is_option(&f.ty) || serde_default(&f.attrs)?;
    if kotlin && optional && !uniffi_default(&f.attrs) {
        return Err(syn::Error::new(
            ident.span(),
            "a field that may be left out needs a default in Kotlin too: \
             #[cfg_attr(feature = \"uniffi\", uniffi(default))]",
        ));
    }
    let mut out = Field {
        ident,
        ty: f.ty.clone(),
        doc: doc(&f.attrs),
        zh: None,
        en: None,
        optional,
        text: None,
        required: false,
        date: None,
        min: None,
        max: None,
        unique: false,
        min_items: None,
        max_items: None,
        evidence: false,
        refs: None,
        cli: None,
        new: None,
        line: None,
        column: None,
        month: false,
        count: None,
        computed: Vec::new(),
    };
    for a in f.attrs.iter().filter(|a| a.path().is_ident("field")) {
        a.parse_nested_meta(|meta| {
            let p = &meta.path;
            let has_value = meta.input.peek(Token![=]);
            if p.is_ident("zh") {
                out.zh = Some(meta.value()?.parse()?);
            } else if p.is_ident("en") {
                out.en = Some(meta.value()?.parse()?);
            } else if p.is_ident("text") {
                out.text = Some(meta.value()?.parse()?);
            } else if p.is_ident("required") {
                out.required = true;
            } else if p.is_ident("date") {
                out.date = Some(if has_value {
                    meta.value()?.parse()?
                } else {
                    Ident::new("past", p.get_ident().map_or(Span::call_site(), Ident::span))
                });
            } else if p.is_ident("min") {
                out.min = Some(meta.value()?.parse()?);
            } else if p.is_ident("max") {
                out.max = Some(meta.value()?.parse()?);
            } else if p.is_ident("unique") {
                out.unique = true;
            } else if p.is_ident("min_items") {
                out.min_items = Some(meta.value()?.parse()?);
            } else if p.is_ident("max_items") {
                out.max_items = Some(meta.value()?.parse()?);
            } else if p.is_ident("evidence") {
                out.evidence = true;
            } else if p.is_ident("refs") {
                out.refs = Some(if has_value {
                    let target: Ident = meta.value()?.parse()?;
                    Refs::Record((target != "any").then_some(target))
                } else {
                    Refs::Person
                });
            } else if p.is_ident("cli") {
                out.cli = Some(meta.value()?.parse()?);
            } else if p.is_ident("new") {
                let v = meta.value()?;
                out.new = Some(if v.peek(LitStr) {
                    let code: LitStr = v.parse()?;
                    quote!(crate::records::field::NewValue::Code(#code))
                } else {
                    let what: Ident = v.parse()?;
                    let variant = match what.to_string().as_str() {
                        "today" => quote!(Today),
                        "me" => quote!(Me),
                        "fresh" => quote!(Fresh),
                        _ => return Err(meta.error("expected today, me, fresh or a code")),
                    };
                    quote!(crate::records::field::NewValue::#variant)
                });
            } else if p.is_ident("line") {
                out.line = Some(if has_value {
                    meta.value()?.parse()?
                } else {
                    LitInt::new("100", Span::call_site())
                });
            } else if p.is_ident("column") {
                out.column = Some(if has_value {
                    Some(meta.value()?.parse()?)
                } else {
                    None
                });
            } else if p.is_ident("month") {
                out.month = true;
            } else if p.is_ident("count") {
                out.count = Some(if has_value {
                    Some(meta.value()?.parse()?)
                } else {
                    None
                });
            } else if p.is_ident("columns") {
                let content;
                parenthesized!(content in meta.input);
                let list = Punctuated::<Computed, Token![,]>::parse_terminated(&content)?;
                out.computed.extend(list);
            } else {
                return Err(meta.error("unknown field attribute"));
            }
            Ok(())
        })?;
    }
    if out.zh.is_none() || out.en.is_none() {
        return Err(syn::Error::new(
            out.ident.span(),
            "every field needs its labels: #[field(zh = \"…\", en = \"…\")]",
        ));
    }
    Ok(out)
}

fn named_fields(input: &DeriveInput) -> syn::Result<Vec<Field>> {
    let Data::Struct(s) = &input.data else {
        return Err(syn::Error::new(
            Span::call_site(),
            "only structs are declared",
        ));
    };
    let SynFields::Named(named) = &s.fields else {
        return Err(syn::Error::new(Span::call_site(), "fields must be named"));
    };
    let kotlin = for_kotlin(input);
    named.named.iter().map(|f| read_field(f, kotlin)).collect()
}

fn opt<T: ToTokens>(v: Option<T>) -> Tokens {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn refs_tokens(r: Option<&Refs>) -> Tokens {
    opt(r.map(|r| match r {
        Refs::Person => quote!(crate::records::field::Target::Person),
        Refs::Record(None) => quote!(crate::records::field::Target::Record(None)),
        Refs::Record(Some(k)) => {
            quote!(crate::records::field::Target::Record(Some(crate::records::RecordKind::#k)))
        }
    }))
}

/// The field's entry in its struct's field table.
fn spec(f: &Field) -> syn::Result<Tokens> {
    let name = f.ident.to_string();
    let (zh, en, doc, ty, optional) = (&f.zh, &f.en, &f.doc, &f.ty, f.optional);
    let mut rules = Vec::new();
    if let Some(n) = &f.text {
        rules.push(quote!(max_chars: Some(#n)));
    }
    if f.required {
        rules.push(quote!(required: true));
    }
    if let Some(d) = &f.date {
        let variant = match d.to_string().as_str() {
            "past" => quote!(Past),
            "planned" => quote!(Planned),
            _ => {
                return Err(syn::Error::new(
                    d.span(),
                    "expected `date` or `date = planned`",
                ));
            }
        };
        rules.push(quote!(dates: Some(crate::records::field::Dates::#variant)));
    }
    if let Some(e) = &f.min {
        rules.push(quote!(min: Some((#e) as i64)));
    }
    if let Some(e) = &f.max {
        rules.push(quote!(max: Some((#e) as i64)));
    }
    if f.unique {
        rules.push(quote!(unique: true));
    }
    if let Some(n) = &f.min_items {
        rules.push(quote!(min_items: #n));
    }
    if let Some(n) = &f.max_items {
        rules.push(quote!(max_items: Some(#n)));
    }
    let evidence = f.evidence;
    let refs = refs_tokens(f.refs.as_ref());
    let cli = opt(f.cli.as_ref());
    let new = opt(f.new.as_ref());
    let line = opt(f.line.as_ref().map(|l| quote!(#l as u8)));
    Ok(quote! {
        crate::records::field::FieldSpec {
            name: #name,
            zh: #zh,
            en: #en,
            doc: #doc,
            ty: <#ty as crate::records::field::FieldValue>::TYPE,
            optional: #optional,
            rules: crate::records::field::Rules { #(#rules,)* ..crate::records::field::Rules::NONE },
            evidence: #evidence,
            refs: #refs,
            cli: #cli,
            new: #new,
            line: #line,
        }
    })
}

/// The checks of the list rules (`unique`, `min_items`, `max_items`) of a
/// field at `at`.
fn list_checks(f: &Field, value: &Tokens, at: &Tokens) -> Tokens {
    let mut out = Tokens::new();
    if f.unique {
        out.extend(quote!(crate::records::validation::check::unique(#at, &#value)?;));
    }
    if f.min_items.is_some() || f.max_items.is_some() {
        let min = f
            .min_items
            .as_ref()
            .map_or_else(|| quote!(0), ToTokens::to_token_stream);
        let max = opt(f.max_items.as_ref());
        out.extend(
            quote!(crate::records::validation::check::items(#at, #value.len(), #min, #max)?;),
        );
    }
    out
}

fn sql_type(sql: &Ident) -> Tokens {
    match sql.to_string().as_str() {
        "int" => quote!(crate::records::row::SqlType::Integer),
        "text" => quote!(crate::records::row::SqlType::Text),
        _ => quote!(crate::records::row::SqlType::Blob),
    }
}

/// The typed-row columns of the fields (their specs) and the code that gives
/// their values.
fn columns(fields: &[Field]) -> (Vec<Tokens>, Vec<Tokens>) {
    let (mut specs, mut values) = (Vec::new(), Vec::new());
    let column = |name: String, sql: Tokens, nullable: Tokens| quote!(crate::records::row::Column { name: #name, sql: #sql, nullable: #nullable });
    for f in fields {
        let (ident, ty) = (&f.ident, &f.ty);
        if let Some(name) = &f.column {
            let name = name
                .as_ref()
                .map_or_else(|| ident.to_string(), LitStr::value);
            specs.push(column(
                name,
                quote!(<#ty as crate::records::row::CellValue>::SQL),
                quote!(<#ty as crate::records::row::CellValue>::NULLABLE),
            ));
            values.push(quote!(out.push(crate::records::row::IntoCell::into_cell(&self.#ident));));
        }
        if f.month {
            specs.push(column(
                "month".into(),
                quote!(crate::records::row::SqlType::Text),
                quote!(false),
            ));
            values.push(quote!(out.push(crate::records::row::month(self.#ident));));
        }
        if let Some(name) = &f.count {
            let name = name
                .as_ref()
                .map_or_else(|| ident.to_string(), LitStr::value);
            specs.push(column(
                name,
                quote!(crate::records::row::SqlType::Integer),
                quote!(false),
            ));
            values.push(quote!(out.push(crate::records::row::count(self.#ident.len()));));
        }
        for c in &f.computed {
            let (sql, nullable, expr) = (sql_type(&c.sql), c.nullable, &c.expr);
            specs.push(column(c.name.to_string(), sql, quote!(#nullable)));
            values.push(quote!(out.push(crate::records::row::IntoCell::into_cell(#expr));));
        }
    }
    (specs, values)
}

fn kind_attrs(input: &DeriveInput) -> syn::Result<KindAttrs> {
    let mut k = KindAttrs::default();
    for a in input.attrs.iter().filter(|a| a.path().is_ident("kind")) {
        a.parse_nested_meta(|meta| {
            let p = &meta.path;
            if p.is_ident("code") {
                k.code = Some(meta.value()?.parse()?);
            } else if p.is_ident("zh") {
                k.zh = Some(meta.value()?.parse()?);
            } else if p.is_ident("en") {
                k.en = Some(meta.value()?.parse()?);
            } else if p.is_ident("audience") {
                k.audience = Some(meta.value()?.parse()?);
            } else if p.is_ident("command") {
                k.command = Some(meta.value()?.parse()?);
            } else if p.is_ident("table") {
                k.table = Some(meta.value()?.parse()?);
            } else if p.is_ident("index") {
                k.index = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error("unknown kind attribute"));
            }
            Ok(())
        })?;
    }
    Ok(k)
}

#[derive(Default)]
struct KindAttrs {
    code: Option<LitStr>,
    zh: Option<LitStr>,
    en: Option<LitStr>,
    audience: Option<Ident>,
    command: Option<LitStr>,
    table: Option<LitStr>,
    index: Option<LitStr>,
}

fn required<T>(v: Option<T>, what: &str) -> syn::Result<T> {
    v.ok_or_else(|| syn::Error::new(Span::call_site(), format!("#[kind(…)] needs `{what}`")))
}

fn expand_kind(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let fields = named_fields(input)?;
    let k = kind_attrs(input)?;
    let code = required(k.code, "code")?;
    let zh = required(k.zh, "zh")?;
    let en = required(k.en, "en")?;
    let command = required(k.command, "command")?;
    let table = required(k.table, "table")?;
    let audience = match required(k.audience, "audience")?.to_string().as_str() {
        "shared" => quote!(Shared),
        "cadre" => quote!(Cadre),
        "member" => quote!(Member),
        "township" => quote!(Township),
        other => {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("audience `{other}`: expected shared, cadre, member or township"),
            ));
        }
    };
    let index: Vec<String> = k
        .index
        .map(|l| l.value().split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let doc = doc(&input.attrs);
    let specs = fields.iter().map(spec).collect::<syn::Result<Vec<_>>>()?;
    let (column_specs, column_values) = columns(&fields);

    let mut validate = Vec::new();
    let mut references = Vec::new();
    let mut evidence = Vec::new();
    let mut edits = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let (ident, fname) = (&f.ident, f.ident.to_string());
        let at = quote!(&crate::records::field::At::Field(#fname));
        validate.push(list_checks(f, &quote!(self.#ident), &at));
        validate.push(quote! {
            crate::records::field::FieldValue::validate(&self.#ident, #at, &Self::FIELDS[#i].rules)?;
        });
        let target = refs_tokens(f.refs.as_ref());
        references.push(quote! {
            crate::records::field::FieldValue::references(&self.#ident, #at, #target, out);
        });
        if f.evidence {
            evidence.push(quote! {
                if seen.#ident != made.#ident {
                    return Err(crate::records::field::evidence_changed(&Self::SPEC, &Self::FIELDS[#i]));
                }
            });
        }
        edits.push(quote! {
            crate::records::field::FieldValue::check_edit(seen.map(|s| &s.#ident), &made.#ident, #at, by)?;
        });
    }

    Ok(quote! {
        impl #name {
            /// The declaration of each field, in the order of the struct.
            pub const FIELDS: &'static [crate::records::field::FieldSpec] = &[#(#specs),*];
        }

        #[automatically_derived]
        impl crate::records::kind::Kind for #name {
            const SPEC: crate::records::kind::KindSpec = crate::records::kind::KindSpec {
                kind: crate::records::RecordKind::#name,
                code: #code,
                zh: #zh,
                en: #en,
                doc: #doc,
                audience: crate::records::Audience::#audience,
                command: #command,
                fields: Self::FIELDS,
                table: crate::records::row::Table {
                    name: #table,
                    columns: &[
                        crate::records::row::Column::DOC_ID,
                        crate::records::row::Column::VILLAGE,
                        #(#column_specs,)*
                        crate::records::row::Column::WITHDRAWN,
                    ],
                    key: &["doc_id"],
                    index: &[#(#index),*],
                },
            };

            fn validate_fields(&self) -> ::core::result::Result<(), crate::records::ValidationError> {
                #(#validate)*
                Ok(())
            }

            fn references(&self, out: &mut ::std::vec::Vec<(::std::string::String, crate::records::Reference)>) {
                #(#references)*
            }

            fn check_fields_edit(
                seen: ::core::option::Option<&Self>,
                made: &Self,
                by: &crate::access::Principal,
            ) -> ::core::result::Result<(), crate::records::ValidationError> {
                if let Some(seen) = seen {
                    #(#evidence)*
                }
                #(#edits)*
                Ok(())
            }

            fn cells<'a>(&'a self, out: &mut ::std::vec::Vec<crate::records::row::Cell<'a>>) {
                #(#column_values)*
            }
        }
    })
}

fn fields_attrs(input: &DeriveInput) -> syn::Result<(Option<syn::Path>, Option<syn::Path>)> {
    let (mut check, mut list_edit) = (None, None);
    for a in input.attrs.iter().filter(|a| a.path().is_ident("fields")) {
        a.parse_nested_meta(|meta| {
            if meta.path.is_ident("check") {
                check = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("list_edit") {
                list_edit = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error("unknown fields attribute"));
            }
            Ok(())
        })?;
    }
    Ok((check, list_edit))
}

fn expand_fields(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    let name_str = name.to_string();
    let fields = named_fields(input)?;
    let (check, list_edit) = fields_attrs(input)?;
    let specs = fields.iter().map(spec).collect::<syn::Result<Vec<_>>>()?;
    let mut validate = Vec::new();
    let mut references = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let (ident, fname) = (&f.ident, f.ident.to_string());
        let at = quote!(&crate::records::field::At::Sub(at, #fname));
        validate.push(list_checks(f, &quote!(self.#ident), &at));
        validate.push(quote! {
            crate::records::field::FieldValue::validate(&self.#ident, #at, &Self::SPEC.fields[#i].rules)?;
        });
        if f.refs.is_some() {
            let target = refs_tokens(f.refs.as_ref());
            references.push(quote! {
                crate::records::field::FieldValue::references(&self.#ident, #at, #target, out);
            });
        }
    }
    if let Some(check) = check {
        validate.push(quote!(#check(self, at)?;));
    }
    let list_edit = list_edit.map(|path| {
        quote! {
            fn check_list_edit(
                seen: ::core::option::Option<&[Self]>,
                made: &[Self],
                at: &crate::records::field::At<'_>,
                by: &crate::access::Principal,
            ) -> ::core::result::Result<(), crate::records::ValidationError> {
                #path(seen, made, at, by)
            }
        }
    });
    Ok(quote! {
        impl #name {
            /// The declaration of this struct's fields.
            pub const SPEC: crate::records::field::StructSpec = crate::records::field::StructSpec {
                name: #name_str,
                fields: &[#(#specs),*],
            };
        }

        #[automatically_derived]
        impl crate::records::field::FieldValue for #name {
            const TYPE: crate::records::field::ValueType = crate::records::field::ValueType {
                shape: crate::records::field::Shape::One,
                value: crate::records::field::Scalar::Struct(&Self::SPEC),
            };

            fn validate(
                &self,
                at: &crate::records::field::At<'_>,
                _rules: &crate::records::field::Rules,
            ) -> ::core::result::Result<(), crate::records::ValidationError> {
                #(#validate)*
                Ok(())
            }

            fn references(
                &self,
                at: &crate::records::field::At<'_>,
                _target: ::core::option::Option<crate::records::field::Target>,
                out: &mut ::std::vec::Vec<(::std::string::String, crate::records::Reference)>,
            ) {
                let _ = (at, &out);
                #(#references)*
            }

            #list_edit
        }
    })
}

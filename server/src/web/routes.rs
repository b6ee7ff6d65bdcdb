//! Every route of the dashboard, in one list that the router is built from
//! ([`router`]) and that tests walk, so a new page cannot escape them.

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use super::{State, assets, bundles, filings, issue, pages, purge, session};

/// A route: method, path (axum's syntax), whether it shows one village's
/// records, example requests, and its handler.
#[derive(Debug)]
pub struct Route {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, with `{param}` for a path parameter.
    pub path: &'static str,
    /// Whether it shows records of the village a request names
    /// (`{village}` in a sample): who may not see that village is refused.
    pub village_scoped: bool,
    /// Requests that exercise it, with `{village}` for a village's code.
    pub samples: &'static [&'static str],
    handler: fn() -> MethodRouter<State>,
}

/// Every route.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/",
        village_scoped: false,
        samples: &["/", "/?period=quarter", "/?period=campaign"],
        handler: || get(pages::overview),
    },
    Route {
        method: "GET",
        path: "/v/{village}",
        village_scoped: true,
        samples: &["/v/{village}", "/v/{village}?period=campaign"],
        handler: || get(pages::village),
    },
    Route {
        method: "GET",
        path: "/ledgers/{ledger}",
        village_scoped: true,
        samples: &[
            "/ledgers/study?village={village}",
            "/ledgers/study?village={village}&period=campaign&format=csv",
            "/ledgers/study?village={village}&format=xlsx",
            "/ledgers/rectifications?village={village}&period=campaign",
            "/ledgers/rectifications?village={village}&status=overdue&format=csv",
            "/ledgers/rectifications?village={village}&format=xlsx",
            "/ledgers/rectifications?village={village}&format=print",
            "/ledgers/idle?village={village}",
            "/ledgers/idle?village={village}&status=90&format=csv",
            "/ledgers/mobile?village={village}&period=campaign",
            "/ledgers/mobile?village={village}&format=xlsx",
            "/ledgers/sessions?village={village}&period=campaign",
            "/ledgers/sessions?village={village}&status=with_absent&format=xlsx",
            "/ledgers/opinions?village={village}&period=campaign",
            "/ledgers/opinions?village={village}&status=answered&format=csv",
            "/ledgers/opinions?village={village}&format=print",
            "/ledgers/problems?village={village}&period=campaign",
            "/ledgers/problems?village={village}&format=xlsx",
            "/ledgers/announce?village={village}&period=campaign&format=print",
            "/ledgers/announce?village={village}&format=csv",
            "/ledgers/practical?village={village}&period=campaign",
            "/ledgers/practical?village={village}&period=campaign&format=print",
            "/ledgers/practical?village={village}&format=xlsx",
            "/ledgers/services?village={village}&status=open",
            "/ledgers/services?village={village}&format=csv",
            "/ledgers/org_life?village={village}&period=campaign",
            "/ledgers/org_life?village={village}&format=xlsx",
            "/ledgers/notices?village={village}&period=campaign",
            "/ledgers/notices?village={village}&format=csv",
            "/ledgers/regulations?village={village}&period=campaign",
            "/ledgers/regulations?village={village}&format=xlsx",
            "/ledgers/listening?village={village}&period=campaign",
            "/ledgers/listening?village={village}&format=csv",
        ],
        handler: || get(pages::ledger_page),
    },
    Route {
        method: "GET",
        path: "/r/{id}",
        // Scoped by the record's own scope, not a village in the path:
        // `dashboard_records_follow_sync_rules.rs` tries other villages' records.
        village_scoped: false,
        samples: &["/r/00000000000000000000000000000000", "/r/not-an-id"],
        handler: || get(pages::record),
    },
    Route {
        method: "GET",
        path: "/filings",
        village_scoped: false,
        samples: &["/filings", "/filings?done=00000000000000000000000000000000"],
        handler: || get(filings::inbox),
    },
    Route {
        method: "POST",
        path: "/filings/{id}",
        village_scoped: false,
        samples: &[
            "/filings/00000000000000000000000000000000",
            "/filings/not-an-id",
        ],
        handler: || post(filings::acknowledge),
    },
    Route {
        method: "GET",
        path: "/issue",
        village_scoped: false,
        samples: &["/issue"],
        handler: || get(issue::form),
    },
    Route {
        method: "POST",
        path: "/issue",
        village_scoped: false,
        samples: &["/issue"],
        handler: || post(issue::issue),
    },
    Route {
        method: "POST",
        path: "/r/{id}/purge",
        village_scoped: false,
        samples: &[
            "/r/00000000000000000000000000000000/purge",
            "/r/not-an-id/purge",
        ],
        handler: || post(purge::purge),
    },
    Route {
        method: "GET",
        path: "/purged",
        village_scoped: false,
        samples: &["/purged"],
        handler: || get(purge::log),
    },
    Route {
        method: "GET",
        path: "/bundles",
        village_scoped: false,
        samples: &["/bundles"],
        handler: || get(bundles::form),
    },
    Route {
        method: "POST",
        path: "/bundles",
        village_scoped: false,
        samples: &["/bundles"],
        handler: || post(bundles::import),
    },
    Route {
        method: "GET",
        path: "/bundles/reply/{token}",
        village_scoped: false,
        samples: &["/bundles/reply/unknown"],
        handler: || get(bundles::reply),
    },
    Route {
        method: "GET",
        path: "/login",
        village_scoped: false,
        samples: &["/login"],
        handler: || get(pages::login_form),
    },
    Route {
        method: "POST",
        path: "/login",
        village_scoped: false,
        samples: &["/login"],
        handler: || post(pages::login),
    },
    Route {
        method: "GET",
        path: "/login/link/{secret}",
        village_scoped: false,
        samples: &["/login/link/unknown"],
        handler: || get(pages::login_link_form),
    },
    Route {
        method: "POST",
        path: "/login/link",
        village_scoped: false,
        samples: &["/login/link"],
        handler: || post(pages::login_link),
    },
    Route {
        method: "POST",
        path: "/logout",
        village_scoped: false,
        samples: &["/logout"],
        handler: || post(pages::logout),
    },
    Route {
        method: "GET",
        path: "/assets/{file}",
        village_scoped: false,
        samples: &["/assets/style.css"],
        handler: || get(assets::asset),
    },
];

/// The dashboard's router: every route of [`ROUTES`], wrapped in
/// [`session::around`].
pub fn router(state: State) -> Router {
    ROUTES
        .iter()
        .fold(Router::new(), |r, route| {
            r.route(route.path, (route.handler)())
        })
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::around,
        ))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ledger, in every format, is among the samples the access
    /// test walks: a new ledger cannot escape it.
    #[test]
    fn every_ledger_and_format_is_sampled() {
        let ledgers = ROUTES
            .iter()
            .find(|r| r.path == "/ledgers/{ledger}")
            .map(|r| r.samples)
            .unwrap_or_default();
        for l in super::super::ledger::LEDGERS {
            let of: Vec<&&str> = ledgers
                .iter()
                .filter(|s| s.starts_with(&format!("/ledgers/{}?", l.name)))
                .collect();
            assert!(!of.is_empty(), "{} is not sampled", l.name);
            assert!(
                of.iter().all(|s| s.contains("village={village}")),
                "{}: a sample without a village",
                l.name
            );
        }
        for format in ["csv", "xlsx", "print"] {
            assert!(
                ledgers
                    .iter()
                    .any(|s| s.contains(&format!("format={format}"))),
                "no {format} sampled"
            );
        }
    }
}

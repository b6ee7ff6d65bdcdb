//! Every route of the dashboard, in one list that the router is built from
//! ([`router`]) and that tests walk, so a new page cannot escape them.

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use super::{State, assets, pages, session};

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
        ],
        handler: || get(pages::ledger_page),
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

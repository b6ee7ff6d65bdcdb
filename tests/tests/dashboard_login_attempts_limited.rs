//! Failed dashboard logins are limited per address and per person: past its
//! allowance an address, or a person from any address, is refused (429)
//! even with the right password, while others still log in; logins that
//! succeed never count.

use std::net::IpAddr;
use std::time::Duration;

use massline_server::rate::Rate;
use massline_tests::web::{self, Https, PASSWORD};
use massline_tests::{TestServer, Township};

async fn attempt(https: &Https, person: &str, password: &str) -> u16 {
    let form = https.get("/login", &[]).await;
    https
        .post(
            "/login",
            &[(
                web::LOGIN_COOKIE,
                &form.set_cookie(web::LOGIN_COOKIE).unwrap(),
            )],
            &[
                ("csrf", &form.csrf().unwrap()),
                ("person", person),
                ("password", password),
            ],
        )
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_address_and_per_person() {
    let town = Township::new();
    let hour = Duration::from_secs(3600);
    let server = TestServer::start_dashboard_configured(&town, |c| {
        c.web.login_failures_per_address = Rate {
            burst: 4,
            every: hour,
        };
        c.web.login_failures_per_person = Rate {
            burst: 2,
            every: hour,
        };
    })
    .await;
    web::populate(&town, server.addr).await;
    let addr = server.web.unwrap();
    let here = Https::new(&town, addr);
    let there = Https::new(&town, addr).from_address("127.0.0.2".parse::<IpAddr>().unwrap());

    // Successful logins never count.
    for _ in 0..6 {
        assert_eq!(attempt(&here, "zhang", PASSWORD).await, 303);
    }
    // zhang's allowance: two failures, then refused even with the password,
    // from any address.
    assert_eq!(attempt(&here, "zhang", "wrong password 1").await, 401);
    assert_eq!(attempt(&here, "zhang", "wrong password 2").await, 401);
    assert_eq!(attempt(&here, "zhang", PASSWORD).await, 429);
    assert_eq!(attempt(&there, "zhang", PASSWORD).await, 429);
    // This address's allowance: two more failures (for nobody), then
    // everyone from it is refused, while another address logs in.
    assert_eq!(attempt(&here, "nobody", "guess one").await, 401);
    assert_eq!(attempt(&here, "nobody-else", "guess two").await, 401);
    assert_eq!(attempt(&here, "li", PASSWORD).await, 429);
    assert_eq!(attempt(&there, "li", PASSWORD).await, 303);
    let refused = here.get("/login", &[]).await;
    assert_eq!(refused.status, 200, "the login page itself stays open");
    server.stop().await;
}

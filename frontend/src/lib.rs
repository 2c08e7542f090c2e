//! The wasm entry point: hydrates the server-rendered dashboard.

// The dashboard's nested view types are deeper than the default limit allows.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The tabs are lazy routes: hydration first loads the opened tab's code, so it is
    // asynchronous; the page is marked interactive once it is done.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("the page has a body");
        let owner = leptos::mount::hydrate_from_async(body, gatehouse_app::App).await;
        owner.forget();
        gatehouse_app::mark_interactive();
    });
}

//! The wasm entry point: hydrates the server-rendered dashboard.

// The dashboard's nested view types are deeper than the default limit allows.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(gatehouse_app::App);
}

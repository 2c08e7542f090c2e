//! The workspace inside the SaaS's page: it tells the parent page its content height,
//! so the SaaS's frame can size itself with no scrollbar inside. The message, posted
//! to the configured origins only (a page of another origin never receives it), is
//! `{"type": "gatehouse:resize", "height": <CSS pixels>}`.

/// Whether the workspace is shown inside the SaaS's page (in the Leptos context of
/// the workspace's tabs): links that leave the workspace, to the docs, open a new tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded(pub bool);

/// The `target` of a link that leaves the workspace: a new tab when embedded.
pub fn leaving_target() -> Option<&'static str> {
    leptos::prelude::use_context::<Embedded>()
        .is_some_and(|Embedded(embedded)| embedded)
        .then_some("_blank")
}

/// The message's `type`.
pub const RESIZE_MESSAGE: &str = "gatehouse:resize";
/// The element whose height is reported.
pub const EMBEDDED_ROOT_ID: &str = "embedded-workspace";

/// Posts the content's height to the parent whenever it changes (looked at five times
/// a second, which costs one layout read).
#[cfg(feature = "hydrate")]
pub fn report_height(origins: Vec<String>) {
    use web_sys::js_sys::{Object, Reflect};
    use web_sys::wasm_bindgen::JsValue;
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    if origins.is_empty() {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let mut reported = -1;
        loop {
            let height = web_sys::window()
                .and_then(|window| window.document())
                .and_then(|document| document.get_element_by_id(EMBEDDED_ROOT_ID))
                .and_then(|element| {
                    use web_sys::wasm_bindgen::JsCast;
                    element.dyn_into::<web_sys::HtmlElement>().ok()
                })
                .map(|element| element.offset_height());
            if let Some(height) = height
                && height != reported
            {
                let message = Object::new();
                let _ = Reflect::set(&message, &"type".into(), &RESIZE_MESSAGE.into());
                let _ = Reflect::set(&message, &"height".into(), &JsValue::from(height));
                for origin in &origins {
                    let _ = parent.post_message(&message, origin);
                }
                reported = height;
            }
            gloo_timers::future::TimeoutFuture::new(200).await;
        }
    });
}

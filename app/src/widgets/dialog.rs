//! Keyboard behaviour every modal dialog shares: Tab and Shift+Tab wrap around inside
//! the dialog while it is open, Escape closes it, and when it closes focus goes back to
//! the control that opened it.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// The controls a keyboard user can reach with Tab.
#[cfg(feature = "hydrate")]
pub(crate) const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), \
     textarea:not([disabled]), [tabindex]:not([tabindex=\"-1\"])";

/// The dialog's keydown handler: Escape calls `close`; Tab on the last control goes to
/// the first, Shift+Tab on the first to the last, so focus never leaves the dialog.
pub fn dialog_keys(close: impl Fn() + Copy + 'static) -> impl Fn(leptos::ev::KeyboardEvent) {
    move |event| match event.key().as_str() {
        "Escape" => {
            // Only the innermost dialog closes (a confirmation inside a detail).
            event.prevent_default();
            event.stop_propagation();
            close();
        }
        "Tab" => keep_focus_inside(&event),
        _ => {}
    }
}

#[cfg(feature = "hydrate")]
fn keep_focus_inside(event: &leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let Some(dialog) = event
        .current_target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    let Ok(found) = dialog.query_selector_all(FOCUSABLE) else {
        return;
    };
    let controls: Vec<web_sys::HtmlElement> = (0..found.length())
        .filter_map(|index| found.item(index))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (controls.first(), controls.last()) else {
        return;
    };
    let active = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.active_element());
    let is_active = |control: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|active| active == control.unchecked_ref::<web_sys::Element>())
    };
    let inside = active
        .as_ref()
        .is_some_and(|active| dialog.contains(Some(active.unchecked_ref())));
    let wrap_to = if event.shift_key() && (is_active(first) || !inside) {
        Some(last)
    } else if !event.shift_key() && (is_active(last) || !inside) {
        Some(first)
    } else {
        None
    };
    if let Some(control) = wrap_to {
        event.prevent_default();
        let _ = control.focus();
    }
}

#[cfg(not(feature = "hydrate"))]
fn keep_focus_inside(_event: &leptos::ev::KeyboardEvent) {}

/// Call in a dialog's component: moves focus into the dialog once it is shown (to its
/// `autofocus` control, else its first control), remembers the control that opened it
/// and gives focus back to that when the dialog closes. A dialog opened from another
/// dialog (the one-time secret after "Create") returns focus to what opened the first.
pub fn dialog_focus() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        focus_into_newest_dialog_soon();
        let active = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.active_element())
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
        // Opened from a control in another dialog, or when that dialog's control was
        // gone already (focus fell back to the page's body).
        let opened_from_a_dialog = active.as_ref().is_none_or(|element| {
            element.tag_name().eq_ignore_ascii_case("body")
                || element
                    .closest("[aria-modal=\"true\"]")
                    .ok()
                    .flatten()
                    .is_some()
        });
        // The control that opened this dialog, inside the dialog beneath (a detail's
        // "Revoke" under its confirmation): focus goes back to it while that one stays.
        let opened_here =
            send_wrapper::SendWrapper::new(active.clone().filter(|_| opened_from_a_dialog));
        let opener = if opened_from_a_dialog {
            FIRST_OPENER.with(|first| first.borrow().clone())
        } else {
            FIRST_OPENER.with(|first| *first.borrow_mut() = active.clone());
            active
        };
        let opener = send_wrapper::SendWrapper::new(opener);
        on_cleanup(move || {
            let opened_here = opened_here.take();
            let Some(control) = opener.take() else {
                return;
            };
            // Focus goes back once the page has settled. The page may still change
            // after the dialog closes (the list reloads and replaces the opener), so for
            // a second focus that fell back to the page's body is given back again.
            wasm_bindgen_futures::spawn_local(async move {
                for _ in 0..RESTORE_TRIES {
                    gloo_timers::future::TimeoutFuture::new(RESTORE_EVERY_MS).await;
                    let Some(document) = web_sys::window().and_then(|window| window.document())
                    else {
                        return;
                    };
                    let focus_lost = document
                        .active_element()
                        .is_none_or(|active| active.tag_name().eq_ignore_ascii_case("body"));
                    // A dialog still open (one that followed this one, or the one
                    // beneath it) keeps the focus, or gets it back on the control that
                    // opened this one; the first dialog gives it back when it closes.
                    if let Some(open) = document
                        .query_selector("[aria-modal=\"true\"]")
                        .ok()
                        .flatten()
                    {
                        if let Some(here) = opened_here.as_ref().filter(|here| {
                            focus_lost
                                && here.is_connected()
                                && open.contains(Some(here.unchecked_ref()))
                        }) {
                            let _ = here.focus();
                        }
                        if !focus_lost {
                            return;
                        }
                        continue;
                    }
                    if !focus_lost {
                        continue;
                    }
                    if control.is_connected() {
                        let _ = control.focus();
                    } else if let Some(twin) = same_control_now(&control) {
                        // The page changed under the dialog (the empty state's "Create"
                        // became the list's): the control that does the same thing.
                        let _ = twin.focus();
                    }
                }
            });
        });
    }
}

/// How often, and how many times, focus lost after a dialog closed is given back.
#[cfg(feature = "hydrate")]
const RESTORE_EVERY_MS: u32 = 50;
#[cfg(feature = "hydrate")]
const RESTORE_TRIES: u32 = 20;

/// After the dialog is on the page: focus its `autofocus` control (or its first one),
/// unless focus is in it already.
#[cfg(feature = "hydrate")]
fn focus_into_newest_dialog_soon() {
    use wasm_bindgen::JsCast;
    let focus_in = || {
        let Some(document) = web_sys::window().and_then(|window| window.document()) else {
            return;
        };
        let Ok(dialogs) = document.query_selector_all("[aria-modal=\"true\"]") else {
            return;
        };
        let Some(dialog) = dialogs
            .item(dialogs.length().saturating_sub(1))
            .and_then(|node| node.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let inside = document
            .active_element()
            .is_some_and(|active| dialog.contains(Some(active.unchecked_ref())));
        if inside {
            return;
        }
        let target = dialog
            .query_selector("[autofocus]")
            .ok()
            .flatten()
            .or_else(|| dialog.query_selector(FOCUSABLE).ok().flatten())
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(target) = target {
            let _ = target.focus();
        }
    };
    let focus_in = wasm_bindgen::closure::Closure::once_into_js(focus_in);
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback(focus_in.unchecked_ref());
    }
}

/// The control on the page now with the same tag and text as `gone`.
#[cfg(feature = "hydrate")]
fn same_control_now(gone: &web_sys::HtmlElement) -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let text = gone.text_content()?;
    let found = web_sys::window()?
        .document()?
        .query_selector_all(&gone.tag_name().to_lowercase())
        .ok()?;
    (0..found.length())
        .filter_map(|index| found.item(index))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .find(|candidate| candidate.text_content().as_deref() == Some(text.as_str()))
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The control outside any dialog that opened the current chain of dialogs.
    static FIRST_OPENER: std::cell::RefCell<Option<web_sys::HtmlElement>> =
        const { std::cell::RefCell::new(None) };
}

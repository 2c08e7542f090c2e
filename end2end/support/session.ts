// What every browser test does first: sign in (the sign-in page is plain HTML, ready as
// soon as it loads), and wait for the dashboard's hydration.
import { Page } from "@playwright/test";

/** Waits until the wasm bundle has hydrated the page (the app marks #root). */
export async function hydrated(page: Page) {
  await page.locator("#root[data-hydrated]").waitFor();
}

/** Signs in through the form and waits for the hydrated Developers page. */
export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/settings/developers");
  await hydrated(page);
}

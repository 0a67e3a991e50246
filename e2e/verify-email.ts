import type { Page } from "playwright-core";
import type { TestKiln } from "../packages/server/src/testing/harness.ts";

/** After "Create account": enters the code Kiln mailed to `email` on the "Check your email" page. */
export async function enterMailedCode(page: Page, kiln: TestKiln, email: string): Promise<void> {
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  await page.getByLabel("Verification code").fill(kiln.verificationMail(email).code);
  await page.getByRole("button", { name: "Verify email" }).click();
}

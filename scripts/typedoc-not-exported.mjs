/**
 * TypeDoc plugin: each `packageOptions.intentionallyNotExported` entry, written
 * `<package>/<path>:<Name>`, applies only to the package it names. TypeDoc hands every package the
 * same list and warns about entries a package never references, so a shared list would warn once
 * per other package.
 */
import { Converter } from "typedoc";

/** Called by TypeDoc when it loads the plugin. */
export function load(app) {
  // Runs after each package is converted and before it is validated, on that package's options.
  app.converter.on(Converter.EVENT_END, (context) => {
    const name = context.project.packageName;
    const entries = app.options.getValue("intentionallyNotExported");
    app.options.setValue(
      "intentionallyNotExported",
      entries.filter((e) => e.startsWith(`${name}/`)),
    );
  });
}

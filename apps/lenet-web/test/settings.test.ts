import { LENET5_PRESETS } from "@tessera/nn";
import { describe, expect, it } from "vitest";
import { SettingsError, settingsFromQuery } from "../src/settings.js";

describe("settingsFromQuery", () => {
  it("starts from the quick preset, on the backend the browser offers, without starting", () => {
    expect(settingsFromQuery("")).toEqual({ ...LENET5_PRESETS.quick, preset: "quick", backend: "auto", autostart: false });
  });

  it("takes the preset, backend, limits, epochs and autostart from the address", () => {
    const s = settingsFromQuery("?preset=tutorial&limitTrain=1500&limitValid=50&limitTest=60&epochs=3&backend=webgpu&autostart=1");
    expect(s).toEqual({
      ...LENET5_PRESETS.tutorial,
      preset: "tutorial",
      backend: "webgpu",
      limitTrain: 1500,
      limitValid: 50,
      limitTest: 60,
      epochs: 3,
      autostart: true,
    });
    expect(settingsFromQuery("?backend=cpu&autostart=0").autostart).toBe(false);
  });

  it("names every bad parameter instead of replacing it", () => {
    const bad = () => settingsFromQuery("?preset=fast&backend=tpu&limitTrain=0&limitTest=2.5&autostart=yes");
    expect(bad).toThrow(SettingsError);
    expect(bad).toThrow(
      "bad page address: preset=fast: expected one of tutorial, listing, quick; backend=tpu: expected one of auto, webgpu, cpu; autostart=yes: expected 1 or 0; limitTrain=0: expected a whole number from 1 to 50000; limitTest=2.5: expected a whole number from 1 to 10000",
    );
  });

  it("refuses fewer training images than one minibatch (nothing would be trained)", () => {
    expect(() => settingsFromQuery("?preset=tutorial&limitTrain=300")).toThrow(
      "bad page address: limitTrain=300: smaller than one minibatch of the tutorial preset (500 images)",
    );
    expect(settingsFromQuery("?limitTrain=20").limitTrain).toBe(20);
  });
});

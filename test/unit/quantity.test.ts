import { expect } from "chai";
import { isQuantity, quantityValue } from "../../tenants/quantity";

describe("Kubernetes quantities", () => {
  const cases: Array<[string, number]> = [
    ["250m", 0.25], ["1", 1], ["1.5", 1.5], ["2k", 2000], ["100M", 1e8], ["1.5G", 1.5e9],
    ["512Mi", 512 * 2 ** 20], ["1.5Gi", 1.5 * 2 ** 30], ["123456Ki", 123456 * 1024], ["1Ti", 2 ** 40],
    ["12345n", 12345e-9], ["500u", 5e-4], ["2e3", 2000], ["1E-3", 0.001], [".5", 0.5],
  ];
  for (const [text, value] of cases) {
    it(`parses ${text}`, () => expect(quantityValue(text)).to.be.closeTo(value, Math.abs(value) * 1e-12));
  }
  for (const bad of ["", "Gi", "1 Gi", "1gi", "1.2.3", "1Gib", "abc", "-"]) {
    it(`rejects "${bad}"`, () => {
      expect(isQuantity(bad)).to.equal(false);
      expect(() => quantityValue(bad)).to.throw(/not a Kubernetes quantity/);
    });
  }
});

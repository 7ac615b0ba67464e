// A customer's first purchase through the typed client: sign up, sign in, browse, order.
// The Node test (tests/contract/test_ts_client.py) runs it, compiled, against a live server.
import { createApiClient, envelopeData, type Schema } from "../src/index.js";

export interface Customer {
  email: string;
  password: string;
  name: string;
}

export interface Purchase {
  userId: string;
  browsed: Schema<"ProductRead">[];
  order: Schema<"OrderRead">;
}

export async function firstPurchase(baseUrl: string, customer: Customer): Promise<Purchase> {
  const anonymous = createApiClient(baseUrl);
  const signedUp = envelopeData(
    await anonymous.POST("/api/auth/signup", { body: { ...customer, role: "customer" } }),
  );
  const tokens = envelopeData(
    await anonymous.POST("/api/auth/login", {
      body: { email: customer.email, password: customer.password },
    }),
  );

  const api = createApiClient(baseUrl, tokens.accessToken);
  const page = envelopeData(await api.GET("/api/products", { params: { query: { limit: 20 } } }));
  const product = page.items[0];
  if (product === undefined) throw new Error("the catalogue is empty");

  const placed = envelopeData(
    await api.POST("/api/orders", {
      body: {
        items: [{ productId: product.id, quantity: 1 }],
        deliveryAddress: {
          name: customer.name,
          phone: "+919876543210",
          line1: "4 Residency Road",
          city: "Bengaluru",
          state: "Karnataka",
          pincode: "560025",
        },
      },
    }),
  );
  if (!("id" in placed)) throw new Error("a quote came back where an order was expected");
  return { userId: signedUp.user.id, browsed: page.items, order: placed };
}

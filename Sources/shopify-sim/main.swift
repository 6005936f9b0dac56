print("shopify-sim: not built yet")

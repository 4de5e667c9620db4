raise SystemExit("x")

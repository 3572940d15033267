print("itrctl")

import LTCApp
print(LTCAppInfo.product)

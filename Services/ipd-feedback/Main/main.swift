import IPDApp
print(IPDAppInfo.product)

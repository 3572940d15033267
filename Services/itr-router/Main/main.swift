import RouterApp
print(RouterAppInfo.product)

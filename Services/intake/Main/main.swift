import IntakeApp
print(IntakeAppInfo.product)

import QQQCore
print("qqq")

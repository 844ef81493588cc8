"""The investigator UI's files (HTML, JS, CSS): a package so they ship in the wheel as package
data and are found through ``importlib.resources`` wherever linkscope is installed."""

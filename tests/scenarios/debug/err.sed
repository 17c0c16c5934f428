s/0x[0-9a-f]+/ADDR/g
s/[0-9]+ us/N us/g
s/table \[[0-9]+, \+[0-9]+\)/table [N, +N)/g
s/(read|parse|place|resolve|relocate) [0-9]+/\1 N/g

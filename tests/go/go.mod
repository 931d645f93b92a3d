module vdsospin

go 1.19

module example.com/booking/inventory

go 1.26

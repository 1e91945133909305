"""The account API: holders manage their points account online, coordinators open and
reclassify incidents (seeds/000_0e15b6772b2a7f9e.txt, "gérez votre compte en ligne")."""

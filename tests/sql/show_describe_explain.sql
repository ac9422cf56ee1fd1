-- ordered
CREATE TABLE k (id BIGINT NOT NULL, name STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'blackhole');
CREATE VIEW v AS SELECT `user` FROM clicks;
SHOW TABLES;
DESCRIBE k;
DROP VIEW v;
SHOW VIEWS;
SHOW CURRENT CATALOG;
CREATE CATALOG c2 WITH ('type' = 'generic_in_memory');
CREATE DATABASE c2.sales;
USE CATALOG c2;
SHOW CURRENT DATABASE;
USE sales;
CREATE TABLE k (n INT) WITH ('connector' = 'blackhole');
SHOW TABLES;
SHOW TABLES FROM default_catalog.default_database;
SHOW DATABASES;
SHOW CATALOGS;
SHOW COLUMNS FROM default_catalog.default_database.k;
